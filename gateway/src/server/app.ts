import cors from '@fastify/cors';
import Fastify, { type FastifyInstance } from 'fastify';
import { adminAdminKeyRoutes } from '../api/admin-admins.js';
import { adminPolicyRoutes } from '../api/admin-policy.js';
import { shareAdminChanges } from '../scale/invalidation.js';
import { adminProviderRoutes } from '../api/admin-providers.js';
import { adminKeyRoutes } from '../api/admin-keys.js';
import { adminRoutingRoutes } from '../api/admin-routing.js';
import { adminAnalyticsRoutes, meUsageRoutes } from '../api/analytics.js';
import { adminBudgetRoutes, meRoutes } from '../api/budgets.js';
import { meDiagnosticRoutes } from '../api/diagnostics.js';
import { adminEventRoutes, meEventRoutes } from '../api/events.js';
import { adminLogRoutes, meLogRoutes } from '../api/logs.js';
import { openApiDocument } from '../api/openapi.js';
import { metricsRoute } from '../observe/metrics.js';
import { otlpExport } from '../observe/otlp.js';
import { errors } from '../wire/errors.js';
import { newRequestId } from '../wire/ids.js';
import { renderError, toGatewayError } from '../wire/render-error.js';
import { anthropicRoutes } from './anthropic-routes.js';
import { adminAuth, keyAuth } from './auth.js';
import { registerJsonBody } from './body.js';
import { notFoundHint } from './not-found.js';
import type { Runtime } from './runtime.js';
import { VERSION } from './version.js';

// Headers browser clients must be able to read from responses.
const EXPOSED = ['request-id', 'retry-after', 'x-should-retry', 'x-portkey-trace-id', 'x-portkey-cache-status', 'x-portkey-last-used-option-index', 'x-portkey-retry-attempt-count', 'x-gatehouse-dropped', 'x-gatehouse-guardrails',
  ...['requests', 'tokens'].flatMap((k) => ['limit', 'remaining', 'reset'].map((f) => `anthropic-ratelimit-${k}-${f}`))];

export interface AppHandle {
  app: FastifyInstance;
  /**
   * Graceful stop: new requests get a 503, in-flight ones (long streams included) may finish
   * for up to `graceMs`, then every connection still open is cut.
   */
  shutdown(graceMs: number): Promise<void>;
}

/** Builds the HTTP app; never listens, so tests and the CLI decide where. */
export async function buildApp(rt: Runtime, opts: { logLevel?: string } = {}): Promise<AppHandle> {
  const bodyLimit = Math.round(rt.config.server.body_limit_mb * 1024 * 1024);
  await rt.providerRegistry.load(rt.store);
  await rt.configs.load(rt.store);
  await rt.policies.load(rt.store);
  const app = Fastify({
    logger: { level: opts.logLevel ?? 'info' },
    genReqId: () => newRequestId(),
    requestIdHeader: false,
    bodyLimit,
    return503OnClosing: false,
    forceCloseConnections: 'idle',
    keepAliveTimeout: 65_000,
    // Bounds how long a client may take to *send* its request; responses (long streams) are
    // bounded by the provider timeouts instead.
    requestTimeout: 300_000,
    connectionTimeout: 0,
  });

  let closing = false;
  app.addHook('onRequest', async (_req, reply) => {
    if (closing) {
      reply.header('connection', 'close');
      throw errors.shuttingDown();
    }
  });

  app.setErrorHandler((err, req, reply) => {
    const ge = toGatewayError(err, rt.config.server.body_limit_mb);
    if (req.record) req.record.error = ge;
    if (ge.code === 'internal') req.log.error({ err }, 'internal error');
    const r = renderError(ge, req.id);
    void reply.code(r.status).headers(r.headers).send(r.body);
  });
  app.setNotFoundHandler((req, reply) => {
    const path = req.url.split('?')[0] ?? req.url;
    const r = renderError(errors.notFound(req.method, path, notFoundHint(path)), req.id);
    void reply.code(r.status).headers(r.headers).send(r.body);
  });

  const origins = rt.config.server.cors.origins;
  await app.register(cors, {
    origin: origins.includes('*') ? '*' : origins.length > 0 ? [...origins] : false,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    exposedHeaders: EXPOSED,
    maxAge: 600,
  });
  registerJsonBody(app, bodyLimit);

  // Claude Code warms the connection with HEAD / or HEAD /api/hello; any 200 will do.
  app.get('/', async () => ({ name: 'gatehouse', version: VERSION }));
  app.get('/api/hello', async () => ({ ok: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(metricsRoute(rt));
  await app.register(otlpExport(rt));
  const openapi = JSON.stringify(openApiDocument());
  app.get('/api/openapi.json', async (_req, reply) => reply.type('application/json').send(openapi));
  // Not ready while draining or while the database cannot be reached (a load balancer then sends
  // new clients elsewhere); /healthz stays 200 either way, the process is alive.
  app.get('/readyz', async (_req, reply) => {
    if (closing) return reply.code(503).send({ status: 'shutting_down' });
    const store = await rt.store.reachable?.();
    return store && !store.ok ? reply.code(503).send({ status: 'store_unavailable', reason: store.reason }) : { status: 'ready' };
  });

  rt.alerts.useLogger(app.log);
  await app.register(anthropicRoutes(rt));
  await app.register(
    async (me) => {
      me.addHook('onRequest', keyAuth(rt));
      await me.register(meRoutes(rt));
      await me.register(meLogRoutes(rt));
      await me.register(meEventRoutes(rt));
      await me.register(meUsageRoutes(rt));
      await me.register(meDiagnosticRoutes());
    },
    { prefix: '/api' },
  );
  await app.register(
    async (admin) => {
      admin.addHook('onRequest', adminAuth(rt));
      if (rt.scale) shareAdminChanges(admin, rt, rt.scale.bus);
      await admin.register(adminKeyRoutes(rt));
      await admin.register(adminRoutingRoutes(rt));
      await admin.register(adminBudgetRoutes(rt));
      await admin.register(adminLogRoutes(rt));
      await admin.register(adminAdminKeyRoutes(rt));
      await admin.register(adminProviderRoutes(rt));
      await admin.register(adminPolicyRoutes(rt));
      await admin.register(adminEventRoutes(rt));
      await admin.register(adminAnalyticsRoutes(rt));
    },
    { prefix: '/api/admin' },
  );

  return {
    app,
    async shutdown(graceMs) {
      closing = true;
      const force = setTimeout(() => app.server.closeAllConnections(), graceMs);
      // A keep-alive connection whose stream ends during the drain would otherwise stay open
      // until the grace period is over; close each one as soon as it falls idle.
      const reap = setInterval(() => app.server.closeIdleConnections(), 50);
      try {
        await app.close();
      } finally {
        clearTimeout(force);
        clearInterval(reap);
      }
    },
  };
}
