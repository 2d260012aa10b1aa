import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { hashSecret, visiblePrefix } from '../governance/keys.js';
import type { Runtime } from '../server/runtime.js';
import { base62 } from '../wire/ids.js';
import { errors } from '../wire/errors.js';
import { parseOr400 } from './admin-keys.js';

export const CreateAdminKeyBody = z
  .object({
    name: z.string().trim().min(1).max(200),
    /** `read_only` may call every GET of the admin API and nothing else. */
    role: z.enum(['admin', 'read_only']).default('read_only'),
  })
  .strict();

/**
 * Admin keys beyond the gateway's own: for dashboards and scripts that only read (`read_only`),
 * or for other admins. Secrets are shown once and stored as SHA-256, like developer keys.
 */
export function adminAdminKeyRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.post('/admin-keys', async (req, reply) => {
      const body = parseOr400(CreateAdminKeyBody, req.body);
      const secret = `gha_${base62(43)}`;
      const k = await rt.store.createAdminKey({ id: `adm_${base62(16)}`, name: body.name, role: body.role, prefix: visiblePrefix(secret), created_at: new Date().toISOString() }, hashSecret(secret));
      return reply.code(201).send({ ...k, key: secret });
    });
    app.get('/admin-keys', async () => ({ data: await rt.store.listAdminKeys() }));
    app.post<{ Params: { id: string } }>('/admin-keys/:id/revoke', async (req) => {
      const k = await rt.store.revokeAdminKey(req.params.id, new Date().toISOString());
      if (!k) throw errors.adminNotFound(`Admin key ${req.params.id}`);
      return k;
    });
  };
}
