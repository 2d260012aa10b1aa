import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findModel, modelInfos, pageModels } from '../governance/models-list.js';
import type { Operation } from '../providers/types.js';
import { forwardableRequestHeaders } from '../proxy/headers.js';
import { forward } from '../proxy/forward.js';
import { pickProvider, providersForKey } from '../routing/pick-provider.js';
import { errors } from '../wire/errors.js';
import { RequestBody } from '../wire/request-body.js';
import { keyAuth } from './auth.js';
import { registerMessageBody } from './body.js';
import type { Runtime } from './runtime.js';

/** The Anthropic Messages surface. Routes match on the path alone; the query goes to the provider as sent. */
export function anthropicRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.addHook('onRequest', keyAuth(rt));
    registerMessageBody(app, Math.round(rt.config.server.body_limit_mb * 1024 * 1024));

    const call = (op: Operation) => async (req: FastifyRequest, reply: FastifyReply) => {
      if (!(req.body instanceof RequestBody)) throw errors.bodyNotObject();
      const provider = pickProvider(rt.providers, req.headers['x-portkey-provider'], req.gatehouseKey, rt.config.default_provider);
      const q = req.url.indexOf('?');
      const query = q < 0 ? '' : req.url.slice(q);
      const upstream = await provider.prepare({ op, requestId: req.id, headers: forwardableRequestHeaders(req.headers), query, body: req.body });
      const outcome = await forward(upstream, reply.raw, {
        requestId: req.id,
        slug: provider.slug,
        agent: rt.agent,
        timeouts: rt.config.server.timeouts,
        takeOver: () => {
          reply.hijack();
          return reply.getHeaders();
        },
      });
      if (outcome.kind === 'upstream_failed') req.log.warn({ code: outcome.error.code, provider: provider.slug }, outcome.error.message);
    };

    app.post('/v1/messages', call('messages'));
    app.post('/v1/messages/count_tokens', call('count_tokens'));

    const allowedModels = (req: FastifyRequest) => modelInfos(providersForKey(rt.providers, req.gatehouseKey).flatMap((p) => p.models));

    app.get<{ Querystring: Record<string, string> }>('/v1/models', async (req) => pageModels(allowedModels(req), req.query));
    app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => findModel(allowedModels(req), req.params.id));
  };
}
