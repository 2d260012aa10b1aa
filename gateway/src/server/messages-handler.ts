import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Operation } from '../providers/types.js';
import type { RouteNode } from '../routing/config-schema.js';
import type { KeyRecord } from '../store/types.js';
import { admit, type Admission } from '../governance/admission.js';
import { ResponseMeter } from '../governance/metering.js';
import { checkModelAllowed } from '../governance/model-policy.js';
import { checkProviders } from '../governance/policy.js';
import { clientGone, relay, type ForwardOutcome } from '../proxy/forward.js';
import { forwardableRequestHeaders } from '../proxy/headers.js';
import { cacheable, cacheKey, cacheSetting, MAX_CACHED_BYTES } from '../routing/cache.js';
import { execute } from '../routing/execute.js';
import { requestMetadata } from '../routing/metadata.js';
import { defaultProvider, resolveRoute } from '../routing/resolve-route.js';
import { errors } from '../wire/errors.js';
import { RequestBody } from '../wire/request-body.js';
import type { Runtime } from './runtime.js';

/**
 * `POST /v1/messages` and `count_tokens`: pick the routing config, answer from the cache when it
 * may, else walk the config's targets and relay the answer that wins.
 */
interface Prepared {
  op: Operation;
  body: RequestBody;
  key: KeyRecord | undefined;
  route: RouteNode;
  metadata: Record<string, string>;
  headers: Record<string, string>;
  routingHeaders: Record<string, string>;
  defaultSlug: string | undefined;
  admission: Admission;
}

export function messagesHandler(rt: Runtime, op: Operation) {
  return async (req: FastifyRequest, reply: FastifyReply): Promise<void> => {
    if (!(req.body instanceof RequestBody)) throw errors.bodyNotObject();
    const key = req.gatehouseKey;
    const ws = key ? rt.policies.workspace(key.workspace) : undefined;
    const record = req.record;
    if (record) {
      record.stream = req.body.boolean('stream') === true;
      record.model = req.body.string('model') ?? null;
      record.bodyPolicy = ws?.log_bodies ?? rt.config.logs.bodies;
    }
    const wsPolicy = key && ws ? { slug: key.workspace, patterns: ws.allowed_models, providers: ws.providers } : undefined;
    checkModelAllowed(key, req.body.string('model'), wsPolicy);
    const route = resolveRoute(req, key, rt.configs, ws?.default_config);
    const metadata = requestMetadata(req.headers['x-portkey-metadata'], key?.metadata, key?.required_metadata);
    if (record) {
      record.metadata = metadata;
      rt.events.emit('request.start', record.started(req));
    }
    const defaultSlug = defaultProvider(req, key, rt.config, rt.providers);
    checkProviders(wsPolicy, route, defaultSlug);
    const trace = req.headers['x-portkey-trace-id'];
    const routingHeaders: Record<string, string> = { 'x-portkey-trace-id': typeof trace === 'string' && trace ? trace : req.id, 'x-portkey-cache-status': 'DISABLED' };

    // Limits, budget and guardrails; every request counts against limits, cache hits included.
    const admission = await admit(rt, { op, key, body: req.body, route, metadata, record });
    Object.assign(routingHeaders, admission.headers);
    if (record) record.forwardedBody = admission.body.raw;
    try {
      await respond(rt, req, reply, { op, body: admission.body, key, route, metadata, headers: forwardableRequestHeaders(req.headers), routingHeaders, defaultSlug, admission });
    } finally {
      await admission.release();
    }
  };
}

async function respond(rt: Runtime, req: FastifyRequest, reply: FastifyReply, p: Prepared): Promise<void> {
  const { op, body, key, route, metadata, headers, routingHeaders } = p;
  const cache = cacheSetting(route.cache);
  const ckey = cache && cacheKey({ workspace: key?.workspace ?? '', route, op, body, headers });
  if (cache && ckey) {
    const refresh = req.headers['x-portkey-cache-force-refresh'] !== undefined;
    const found = refresh ? undefined : rt.cache.get(ckey, cache.maxAgeMs);
    // Only a shared cache answers with a promise; the in-memory one costs no await.
    const hit = found instanceof Promise ? await found : found;
    if (hit) {
      if (req.record) req.record.cacheStatus = 'HIT';
      // A hit costs nothing upstream and says so.
      await reply
        .code(hit.status)
        .headers({ ...routingHeaders, 'x-portkey-cache-status': 'HIT', 'content-type': hit.contentType, 'request-id': req.id })
        .send(hit.body);
      return;
    }
    routingHeaders['x-portkey-cache-status'] = refresh ? 'REFRESH' : 'MISS';
  }

  const gone = clientGone(reply.raw);
  try {
    const q = req.url.indexOf('?');
    const outcome = await execute(route, {
      providers: rt.providers,
      agent: rt.agent,
      timeouts: rt.config.server.timeouts,
      signal: gone.signal,
      circuits: rt.circuits,
      call: { op, requestId: req.id, headers, query: q < 0 ? '' : req.url.slice(q), body },
      defaultProvider: p.defaultSlug,
      query: { metadata, param: (name) => (body.members.has(name) ? JSON.parse(body.text(name)!) : undefined) },
    });
    routingHeaders['x-portkey-last-used-option-index'] = outcome.path;
    routingHeaders['x-portkey-retry-attempt-count'] = String(outcome.retries);
    const pending = outcome.ok ? outcome.pending : outcome.failure.pending;
    const record = req.record;
    if (record) {
      record.routePath = outcome.path;
      record.retries = outcome.retries;
      record.cacheStatus = routingHeaders['x-portkey-cache-status'] ?? null;
      record.provider = pending?.slug ?? null;
      const upstreamId = pending?.headers['request-id'] ?? pending?.headers['x-amzn-requestid'];
      record.upstreamRequestId = typeof upstreamId === 'string' ? upstreamId : null;
    }
    if (!pending) {
      const error = (outcome.ok ? undefined : outcome.failure.error) ?? errors.internal(new Error('routing ended without an answer'));
      Object.assign(error.headers, routingHeaders);
      throw error;
    }
    const kept: Buffer[] = [];
    let keptBytes = 0;
    const keep = cache && ckey && pending.status === 200;
    const { admission } = p;
    const meter = new ResponseMeter(pending.sse ? 'sse' : 'json', rt.prices, body.string('model'), admission.reservation, admission.lease, admission.budgeted && pending.sse && pending.status === 200);
    // Spend settled and the log row stored before the client sees the end (once, whichever way it ends).
    let ending: Promise<void> | undefined;
    const ended = (o: ForwardOutcome) =>
      (ending ??= (async () => {
        const spend = await meter.finish(pending.providerUsage?.());
        if (spend.cost.usd === null && pending.status === 200) warnUnpriced(req, spend.model, spend.cost.reason);
        if (!record) return;
        record.spend = spend;
        record.outcome = o.kind === 'completed' ? (o.status < 400 ? 'ok' : 'error') : o.kind === 'cut' ? 'budget_cut' : o.kind;
        if (o.kind === 'cut' || o.kind === 'upstream_failed') record.error = o.error;
        await rt.logs.write(record.finish(req, pending.status));
      })());
    const done = await relay(pending, reply.raw, {
      requestId: req.id,
      timeouts: rt.config.server.timeouts,
      signal: gone.signal,
      headers: routingHeaders,
      takeOver: () => {
        reply.hijack();
        return reply.getHeaders();
      },
      onChunk: (chunk) => {
        record?.firstByte();
        record?.responseChunk(chunk);
        if (!meter.gated) meter.observe(chunk);
        if (keep) {
          keptBytes += chunk.length;
          if (keptBytes <= MAX_CACHED_BYTES) kept.push(chunk);
        }
      },
      gate: meter.gated ? { take: (c) => meter.gate(c), flush: () => meter.flush() } : undefined,
      beforeEnd: (o) => ended(o),
    });
    await ended(done);
    if (done.kind === 'upstream_failed') req.log.warn({ code: done.error.code, path: outcome.path }, done.error.message);
    if (done.kind === 'cut') req.log.info({ code: done.error.code }, done.error.message);
    const contentType = String(pending.headers['content-type'] ?? 'application/json');
    if (keep && ckey && done.kind === 'completed' && keptBytes <= MAX_CACHED_BYTES) {
      const stored = Buffer.concat(kept);
      if (cacheable(done.status, contentType, stored)) rt.cache.set(ckey, { status: done.status, contentType, body: stored, storedAt: Date.now() }, cache.maxAgeMs);
    }
  } finally {
    gone.dispose();
  }
}

const warnedUnpriced = new Set<string>();

/** An unpriced model is spend nobody can see; say so once per model rather than count it as $0. */
function warnUnpriced(req: FastifyRequest, model: string | undefined, reason: string): void {
  const id = model ?? '(none)';
  if (warnedUnpriced.has(id)) return;
  warnedUnpriced.add(id);
  req.log.warn({ model: id }, `cost unknown: ${reason}`);
}
