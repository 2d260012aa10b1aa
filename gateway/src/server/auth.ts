import type { FastifyRequest } from 'fastify';
import { authenticateKey, hashesEqual, hashSecret } from '../governance/keys.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import type { Runtime } from './runtime.js';

declare module 'fastify' {
  interface FastifyRequest {
    gatehouseKey: KeyRecord | undefined;
    /** Set on admin routes: what the presented admin key may do. */
    adminRole: 'admin' | 'read_only' | undefined;
  }
}

/** The three ways clients send a key: Portkey's header, Anthropic's, and a bearer token. */
export function presentedSecret(req: FastifyRequest): string | undefined {
  const h = req.headers;
  const portkey = h['x-portkey-api-key'];
  if (typeof portkey === 'string' && portkey.trim()) return portkey.trim();
  const apiKey = h['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.trim()) return apiKey.trim();
  const m = /^Bearer\s+(\S+)\s*$/i.exec(h.authorization ?? '');
  return m?.[1];
}

export function keyAuth(rt: Runtime) {
  return async function authenticate(req: FastifyRequest): Promise<void> {
    const secret = presentedSecret(req);
    if (secret === undefined) throw errors.missingKey();
    const hash = hashSecret(secret);
    if (hashesEqual(hash, rt.adminKeyHash)) throw errors.adminKeyOnModelRoute();
    req.gatehouseKey = await authenticateKey(rt.keys, secret, hash);
  };
}

/**
 * The admin API: the gateway's own admin key (from the config or the data directory), or an admin
 * key created through the API, whose role may be `read_only` (GET and HEAD only).
 */
export function adminAuth(rt: Runtime) {
  return async function authenticateAdmin(req: FastifyRequest): Promise<void> {
    const secret = presentedSecret(req);
    if (secret === undefined) throw errors.notAdmin();
    const hash = hashSecret(secret);
    if (hashesEqual(hash, rt.adminKeyHash)) {
      req.adminRole = 'admin';
      return;
    }
    const stored = await rt.store.findAdminKey(hash);
    if (!stored || stored.revoked_at !== null) throw errors.notAdmin();
    req.adminRole = stored.role;
    if (stored.role === 'read_only' && req.method !== 'GET' && req.method !== 'HEAD') throw errors.readOnlyAdmin(req.method, req.url.split('?')[0] ?? req.url);
  };
}
