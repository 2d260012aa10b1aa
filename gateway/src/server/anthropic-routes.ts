import type { FastifyInstance, FastifyRequest } from 'fastify';
import { modelAllowed, providersForKey } from '../governance/model-policy.js';
import { findModel, modelInfos, pageModels } from '../governance/models-list.js';
import { RequestRecord } from '../observe/log-row.js';
import { keyAuth } from './auth.js';
import { registerMessageBody } from './body.js';
import { messagesHandler } from './messages-handler.js';
import type { Runtime } from './runtime.js';

declare module 'fastify' {
  interface FastifyRequest {
    record: RequestRecord | undefined;
  }
}

function endpointOf(url: string): string {
  const path = url.split('?')[0] ?? url;
  if (path === '/v1/messages') return 'messages';
  if (path === '/v1/messages/count_tokens') return 'count_tokens';
  return path.startsWith('/v1/models') ? 'models' : path;
}

/** The Anthropic Messages surface. Routes match on the path alone; the query goes to the provider as sent. */
export function anthropicRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    // Every request here gets a log row, refused ones included: the record starts before auth.
    app.addHook('onRequest', async (req) => {
      req.record = new RequestRecord(endpointOf(req.url));
    });
    // Answers fastify sends itself (errors, cache hits, model lists) are logged before they go out;
    // relayed answers are logged by the handler just before their last bytes.
    app.addHook('onSend', async (req, reply, payload) => {
      await rt.logs.write(req.record?.finish(req, reply.statusCode, payload));
      return payload;
    });
    app.addHook('onRequest', keyAuth(rt));
    registerMessageBody(app, Math.round(rt.config.server.body_limit_mb * 1024 * 1024));

    app.post('/v1/messages', messagesHandler(rt, 'messages'));
    app.post('/v1/messages/count_tokens', messagesHandler(rt, 'count_tokens'));

    const allowedModels = (req: FastifyRequest) =>
      modelInfos(providersForKey(rt.providers, req.gatehouseKey).flatMap((p) => p.models)).filter((m) => modelAllowed(req.gatehouseKey, m.id));

    app.get<{ Querystring: Record<string, string> }>('/v1/models', async (req) => pageModels(allowedModels(req), req.query));
    app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => findModel(allowedModels(req), req.params.id));
  };
}
