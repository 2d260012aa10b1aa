import type { FastifyInstance } from 'fastify';
import type { Runtime } from '../server/runtime.js';
import { errors } from '../wire/errors.js';

const ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Routing configs and circuit state, for admins. */
export function adminRoutingRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/circuits', async () => ({ data: rt.circuits.states() }));

    app.get<{ Querystring: { workspace?: string } }>('/configs', async (req) => ({ data: rt.configs.list(req.query.workspace) }));

    app.get<{ Params: { id: string } }>('/configs/:id', async (req) => {
      const entry = rt.configs.list().find((c) => c.id === req.params.id);
      if (!entry) throw errors.adminNotFound(`Config ${req.params.id}`);
      return entry;
    });

    // `?workspace=eng` makes the config usable by that workspace's keys only.
    app.put<{ Params: { id: string }; Querystring: { workspace?: string } }>('/configs/:id', async (req) => {
      if (!ID.test(req.params.id)) throw errors.invalidParam('A config id uses letters, digits, ".", "_" and "-" (at most 128).');
      const ws = req.query.workspace;
      if (ws !== undefined && !rt.policies.hasWorkspace(ws)) throw errors.invalidParam(`workspace: "${ws}" is not defined; known: ${rt.policies.workspaceIds().join(', ')}.`);
      return rt.configs.put(rt.store, req.params.id, req.body, ws ?? null);
    });

    app.delete<{ Params: { id: string } }>('/configs/:id', async (req, reply) => {
      const users = (await rt.store.listKeys({ includeRevoked: false })).filter((k) => k.config === req.params.id);
      if (users.length) throw errors.conflict(`Config ${req.params.id} is the default of ${users.length} key(s) (${users.slice(0, 5).map((k) => k.id).join(', ')}); change them first.`);
      const workspaces = rt.policies.listWorkspaces().filter((w) => w.def.default_config === req.params.id);
      if (workspaces.length) throw errors.conflict(`Config ${req.params.id} is the default_config of workspace(s) ${workspaces.map((w) => w.id).join(', ')}; change them first.`);
      if (!(await rt.configs.delete(rt.store, req.params.id))) throw errors.adminNotFound(`Config ${req.params.id}`);
      return reply.code(204).send();
    });
  };
}
