import type { FastifyInstance } from 'fastify';
import { Slug } from '../config/schema.js';
import { ApiProviderBody } from '../providers/api-provider.js';
import { providerRefs } from '../routing/config-schema.js';
import type { Runtime } from '../server/runtime.js';
import { errors } from '../wire/errors.js';
import { parseOr400 } from './admin-keys.js';

/**
 * Providers: the config file's (credentials as env:/file: references, never stored) and those
 * created here, whose credentials are write-only: stored encrypted, never in an answer.
 */
export function adminProviderRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/providers', async () => ({ data: rt.providerRegistry.list() }));

    app.put<{ Params: { id: string } }>('/providers/:id', async (req) => {
      const id = req.params.id;
      if (!Slug.safeParse(id).success) throw errors.invalidParam('A provider id uses lower-case letters, digits, "-" and "_" (at most 63), starting with a letter or digit.');
      if (rt.providerRegistry.isFile(id)) throw errors.conflict(`Provider ${id} is defined in the config file; change it there.`);
      return rt.providerRegistry.put(rt.store, id, parseOr400(ApiProviderBody, req.body));
    });

    app.delete<{ Params: { id: string } }>('/providers/:id', async (req, reply) => {
      const id = req.params.id;
      if (rt.providerRegistry.isFile(id)) throw errors.conflict(`Provider ${id} is defined in the config file; remove it there.`);
      if (!rt.providerRegistry.isApi(id)) throw errors.adminNotFound(`Provider ${id}`);
      const keys = (await rt.store.listKeys({ includeRevoked: false })).filter((k) => k.provider === id);
      const configs = rt.configs.list().filter((c) => providerRefs(c.config).some((r) => r.slug === id));
      const workspaces = rt.policies.listWorkspaces().filter((w) => w.def.providers?.includes(id));
      if (keys.length || configs.length || workspaces.length) {
        const users = [
          ...(keys.length ? [`${keys.length} key(s) (${keys.slice(0, 5).map((k) => k.id).join(', ')})`] : []),
          ...(configs.length ? [`config(s) ${configs.slice(0, 5).map((c) => c.id).join(', ')}`] : []),
          ...(workspaces.length ? [`workspace(s) ${workspaces.slice(0, 5).map((w) => w.id).join(', ')}`] : []),
        ];
        throw errors.conflict(`Provider ${id} is used by ${users.join(' and ')}; change them first.`);
      }
      await rt.providerRegistry.delete(rt.store, id);
      return reply.code(204).send();
    });
  };
}
