import type { FastifyInstance } from 'fastify';
import type { z } from 'zod';
import { hashSecret, newKeyId, newKeySecret, parseDuration, visiblePrefix } from '../governance/keys.js';
import type { Runtime } from '../server/runtime.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { CreateKeyBody, ListKeysQuery, RotateKeyBody, UpdateKeyBody, type KeyView, type KeyWithSecret } from './schemas.js';

/** Validates with a schema; every problem is named by its path in one 400. */
export function parseOr400<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const r = schema.safeParse(value ?? {});
  if (r.success) return r.data;
  throw errors.invalidParam(r.error.issues.map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`).join('; '));
}

export function keyView(k: KeyRecord, now = new Date().toISOString()): KeyView {
  const status = k.revoked_at ? 'revoked' : k.expires_at && k.expires_at <= now ? 'expired' : 'active';
  return { ...k, status };
}

function durationOr400(field: string, text: string): number {
  const ms = parseDuration(text);
  if (ms === undefined) throw errors.invalidParam(`${field}: "${text}" is not a duration; use a number and a unit, e.g. 30d, 12h, 90m.`);
  return ms;
}

export function adminKeyRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/keys', async (req, reply) => {
      const body = parseOr400(CreateKeyBody, req.body);
      if (!rt.policies.hasWorkspace(body.workspace)) {
        throw errors.invalidParam(`workspace: "${body.workspace}" is not defined; known: ${rt.policies.workspaceIds().join(', ')}.`);
      }
      const provider = body.provider?.replace(/^@/, '') ?? null;
      if (provider !== null && !rt.providers.has(provider)) throw errors.unknownProvider(provider, [...rt.providers.keys()]);
      if (body.config !== undefined && !rt.configs.has(body.config, body.workspace)) {
        throw errors.invalidParam(`config: "${body.config}" is not defined for workspace "${body.workspace}" (in the gateway's config file or through /api/admin/configs).`);
      }
      const now = new Date();
      const expires_at = body.expires_in ? new Date(now.getTime() + durationOr400('expires_in', body.expires_in)).toISOString() : (body.expires_at ?? null);
      const secret = newKeySecret();
      const record = await rt.store.createKey(
        { id: newKeyId(), name: body.name, workspace: body.workspace, provider, config: body.config ?? null, metadata: body.metadata, allow_inline_config: body.allow_inline_config, allowed_models: body.allowed_models ?? null, required_metadata: body.required_metadata, rpm: body.rpm ?? null, max_concurrent: body.max_concurrent ?? null, tpm: body.tpm ?? null, budget_usd: body.budget_usd ?? null, budget_tokens: body.budget_tokens ?? null, budget_period: body.budget_period, expires_at, created_at: now.toISOString() },
        hashSecret(secret),
        visiblePrefix(secret),
      );
      // A key created just now may have been tried (and cached as unknown) a moment ago.
      rt.keys.clear();
      const out: KeyWithSecret = { ...keyView(record), key: secret };
      return reply.code(201).send(out);
    });

    app.get('/keys', async (req) => {
      const q = parseOr400(ListKeysQuery, req.query);
      const keys = await rt.store.listKeys({ workspace: q.workspace, includeRevoked: q.include_revoked !== 'false' });
      return { data: keys.map((k) => keyView(k)) };
    });

    app.get<{ Params: { id: string } }>('/keys/:id', async (req) => {
      const k = await rt.store.getKey(req.params.id);
      if (!k) throw errors.adminNotFound(`Key ${req.params.id}`);
      return keyView(k);
    });

    app.patch<{ Params: { id: string } }>('/keys/:id', async (req) => {
      const body = parseOr400(UpdateKeyBody, req.body);
      const existing = await rt.store.getKey(req.params.id);
      if (!existing) throw errors.adminNotFound(`Key ${req.params.id}`);
      const provider = body.provider === undefined ? undefined : (body.provider?.replace(/^@/, '') ?? null);
      if (provider && !rt.providers.has(provider)) throw errors.unknownProvider(provider, [...rt.providers.keys()]);
      if (body.config && !rt.configs.has(body.config, existing.workspace)) throw errors.invalidParam(`config: "${body.config}" is not defined.`);
      const k = await rt.store.updateKey(existing.id, { ...body, provider });
      rt.keys.clear();
      return keyView(k!);
    });

    app.post<{ Params: { id: string } }>('/keys/:id/revoke', async (req) => {
      const k = await rt.store.revokeKey(req.params.id, new Date().toISOString());
      rt.keys.clear();
      if (!k) throw errors.adminNotFound(`Key ${req.params.id}`);
      return keyView(k);
    });

    app.post<{ Params: { id: string } }>('/keys/:id/rotate', async (req) => {
      const body = parseOr400(RotateKeyBody, req.body);
      const grace = durationOr400('grace', body.grace === '0' ? '0s' : body.grace);
      const existing = await rt.store.getKey(req.params.id);
      if (!existing) throw errors.adminNotFound(`Key ${req.params.id}`);
      if (existing.revoked_at) throw errors.invalidParam(`Key ${existing.id} is revoked; create a new key instead.`);
      const now = new Date();
      const secret = newKeySecret();
      const k = await rt.store.rotateKey(existing.id, hashSecret(secret), visiblePrefix(secret), now.toISOString(), new Date(now.getTime() + grace).toISOString());
      rt.keys.clear();
      if (!k) throw errors.adminNotFound(`Key ${req.params.id}`);
      const out: KeyWithSecret = { ...keyView(k), key: secret };
      return out;
    });
  };
}
