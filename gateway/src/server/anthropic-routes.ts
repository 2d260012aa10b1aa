import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { findModel, modelInfos, pageModels } from '../governance/models-list.js';
import type { Operation } from '../providers/types.js';
import { forwardableRequestHeaders } from '../proxy/headers.js';
import { clientGone, relay } from '../proxy/forward.js';
import { execute } from '../routing/execute.js';
import { requestMetadata } from '../routing/metadata.js';
import { providersForKey } from '../routing/pick-provider.js';
import { defaultProvider, resolveRoute } from '../routing/resolve-route.js';
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

    const providerSlugs = new Set(rt.providers.keys());

    const call = (op: Operation) => async (req: FastifyRequest, reply: FastifyReply) => {
      if (!(req.body instanceof RequestBody)) throw errors.bodyNotObject();
      const body = req.body;
      const key = req.gatehouseKey;
      const route = resolveRoute(req, key, rt.config, providerSlugs);
      const metadata = requestMetadata(req.headers['x-portkey-metadata'], key?.metadata);
      const q = req.url.indexOf('?');
      const trace = req.headers['x-portkey-trace-id'];
      const routingHeaders: Record<string, string> = { 'x-portkey-trace-id': typeof trace === 'string' && trace ? trace : req.id, 'x-portkey-cache-status': 'DISABLED' };
      const gone = clientGone(reply.raw);
      try {
        const outcome = await execute(route, {
          providers: rt.providers,
          agent: rt.agent,
          timeouts: rt.config.server.timeouts,
          signal: gone.signal,
          call: { op, requestId: req.id, headers: forwardableRequestHeaders(req.headers), query: q < 0 ? '' : req.url.slice(q), body },
          defaultProvider: defaultProvider(req, key, rt.config, providerSlugs),
          circuits: rt.circuits,
          query: { metadata, param: (name) => (body.members.has(name) ? JSON.parse(body.text(name)!) : undefined) },
        });
        routingHeaders['x-portkey-last-used-option-index'] = outcome.path;
        routingHeaders['x-portkey-retry-attempt-count'] = String(outcome.retries);
        const pending = outcome.ok ? outcome.pending : outcome.failure.pending;
        if (!pending) {
          const error = outcome.ok ? undefined : outcome.failure.error;
          if (error) Object.assign(error.headers, routingHeaders);
          throw error;
        }
        const done = await relay(pending, reply.raw, {
          requestId: req.id,
          timeouts: rt.config.server.timeouts,
          signal: gone.signal,
          headers: routingHeaders,
          takeOver: () => {
            reply.hijack();
            return reply.getHeaders();
          },
        });
        if (done.kind === 'upstream_failed') req.log.warn({ code: done.error.code, path: outcome.path }, done.error.message);
      } finally {
        gone.dispose();
      }
    };

    app.post('/v1/messages', call('messages'));
    app.post('/v1/messages/count_tokens', call('count_tokens'));

    const allowedModels = (req: FastifyRequest) => modelInfos(providersForKey(rt.providers, req.gatehouseKey).flatMap((p) => p.models));

    app.get<{ Querystring: Record<string, string> }>('/v1/models', async (req) => pageModels(allowedModels(req), req.query));
    app.get<{ Params: { id: string } }>('/v1/models/:id', async (req) => findModel(allowedModels(req), req.params.id));
  };
}
