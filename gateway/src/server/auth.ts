import type { FastifyRequest } from 'fastify';
import { authenticateKey, hashesEqual, hashSecret } from '../governance/keys.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import type { Runtime } from './runtime.js';

declare module 'fastify' {
  interface FastifyRequest {
    gatehouseKey: KeyRecord | undefined;
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

export function adminAuth(rt: Runtime) {
  return async function authenticateAdmin(req: FastifyRequest): Promise<void> {
    const secret = presentedSecret(req);
    if (secret === undefined || !hashesEqual(hashSecret(secret), rt.adminKeyHash)) throw errors.notAdmin();
  };
}
