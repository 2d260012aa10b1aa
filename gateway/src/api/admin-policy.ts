import type { FastifyInstance } from 'fastify';
import { GuardrailId, Slug, WorkspaceSchema } from '../config/schema.js';
import { GuardrailSchema } from '../governance/guardrails/schema.js';
import type { Runtime } from '../server/runtime.js';
import { errors } from '../wire/errors.js';
import { parseOr400 } from './admin-keys.js';
import { workspaceView } from './budgets.js';

/**
 * Workspaces and guardrails created through the admin API, beside the config file's (which stay
 * read-only here). Each change applies from the next request and survives restarts.
 * `GET /workspaces` is in budgets.ts (it shows where each budget stands).
 */
export function adminPolicyRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.put<{ Params: { id: string } }>('/workspaces/:id', async (req) => {
      const id = req.params.id;
      if (!Slug.safeParse(id).success) throw errors.invalidParam('A workspace id uses lower-case letters, digits, "-" and "_" (at most 63), starting with a letter or digit.');
      if (rt.policies.isFileWorkspace(id)) throw errors.conflict(`Workspace ${id} is defined in the config file; change it there.`);
      await rt.policies.putWorkspace(rt.store, id, parseOr400(WorkspaceSchema, req.body), { providers: rt.providers, configs: rt.configs });
      return workspaceView(rt, id);
    });

    app.delete<{ Params: { id: string } }>('/workspaces/:id', async (req, reply) => {
      const id = req.params.id;
      if (rt.policies.isFileWorkspace(id)) throw errors.conflict(`Workspace ${id} is defined in the config file; remove it there.`);
      if (!rt.policies.isApiWorkspace(id)) throw errors.adminNotFound(`Workspace ${id}`);
      const keys = await rt.store.listKeys({ workspace: id, includeRevoked: false });
      const configs = rt.configs.list().filter((c) => c.workspace === id);
      if (keys.length || configs.length) {
        const users = [
          ...(keys.length ? [`${keys.length} key(s) (${keys.slice(0, 5).map((k) => k.id).join(', ')})`] : []),
          ...(configs.length ? [`config(s) ${configs.slice(0, 5).map((c) => c.id).join(', ')}`] : []),
        ];
        throw errors.conflict(`Workspace ${id} has ${users.join(' and ')}; revoke or delete them first.`);
      }
      await rt.policies.deleteWorkspace(rt.store, id);
      return reply.code(204).send();
    });

    app.get('/guardrails', async () => ({ data: rt.policies.listGuardrails().map(({ id, source, def, updated_at }) => ({ id, source, ...def, ...(updated_at ? { updated_at } : {}) })) }));

    app.put<{ Params: { id: string } }>('/guardrails/:id', async (req) => {
      const id = req.params.id;
      if (!GuardrailId.safeParse(id).success) throw errors.invalidParam('A guardrail id uses letters, digits, ".", "-" and "_" (at most 63), starting with a letter or digit.');
      if (rt.policies.isFileGuardrail(id)) throw errors.conflict(`Guardrail ${id} is defined in the config file; change it there.`);
      const { source, def, updated_at } = await rt.policies.putGuardrail(rt.store, id, parseOr400(GuardrailSchema, req.body));
      return { id, source, ...def, updated_at };
    });

    app.delete<{ Params: { id: string } }>('/guardrails/:id', async (req, reply) => {
      const id = req.params.id;
      if (rt.policies.isFileGuardrail(id)) throw errors.conflict(`Guardrail ${id} is defined in the config file; remove it there.`);
      if (!rt.policies.isApiGuardrail(id)) throw errors.adminNotFound(`Guardrail ${id}`);
      const workspaces = rt.policies.workspacesUsingGuardrail(id);
      const configs = rt.configs.list().filter((c) => c.config.input_guardrails?.includes(id));
      if (workspaces.length || configs.length) {
        const users = [
          ...(workspaces.length ? [`workspace(s) ${workspaces.slice(0, 5).join(', ')}`] : []),
          ...(configs.length ? [`config(s) ${configs.slice(0, 5).map((c) => c.id).join(', ')}`] : []),
        ];
        throw errors.conflict(`Guardrail ${id} is used by ${users.join(' and ')}; change them first.`);
      }
      await rt.policies.deleteGuardrail(rt.store, id);
      return reply.code(204).send();
    });
  };
}
