import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { OutgoingHttpHeaders } from 'node:http';
import type { BudgetAlert } from '../governance/alerts.js';
import type { Meter } from '../governance/budgets.js';
import { scopesFor } from '../governance/policy.js';
import { adminFilter, keyFilter, LiveHub, liveOptions, sseFrame, type LiveFilter, type Publishable } from '../observe/live-events.js';
import type { LogRow, RequestStart } from '../observe/log-row.js';
import type { Runtime } from '../server/runtime.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { liveFanout } from '../scale/live-fanout.js';
import { budgetView } from './budgets.js';

/**
 * Live events over Server-Sent Events (docs/events.md has the frames):
 * - `GET /api/me/events` (a developer's key): its requests as they start and finish, its spend
 *   after each, and budget alerts on its key, workspace or pinned user.
 * - `GET /api/admin/events?workspace=W&key_id=K` (admin key): every request and alert.
 * Every frame has an increasing `id:`; a client that reconnects with `Last-Event-ID` gets what
 * it missed first (or `event: reset` when that is no longer kept), then live events.
 */

const hubs = new WeakMap<Runtime, { hub: LiveHub; detach(): void }>();

/** The runtime's one hub, fed from `rt.events` from the first time it is asked for until the app closes. */
export function hubFor(rt: Runtime, log?: { warn(obj: object, msg: string): void }): LiveHub {
  const known = hubs.get(rt);
  if (known) return known.hub;
  const warn = (err: unknown) => log?.warn({ err }, 'live events: could not send an event');
  const hub = new LiveHub(liveOptions().bufferSize, warn, rt.scale?.liveIds);
  // A listener that throws would surface in the emitter (the log writer would call its rows unstored).
  const guard =
    <T>(f: (v: T) => void) =>
    (v: T): void => {
      try {
        f(v);
      } catch (err) {
        warn(err);
      }
    };
  const spendAfter = (row: LogRow) => {
    const keyId = row.key_id;
    if (keyId !== null && hub.wantsSpend(keyId)) hub.defer(() => spendEvent(rt, keyId, row));
  };
  // With several instances, each one's events reach the streams of all (scale/live-fanout.ts).
  const fanout =
    rt.scale &&
    liveFanout(rt.scale.bus, (p, id) => {
      hub.publish(p, id);
      if (p.type === 'request.finish') spendAfter(p.data as LogRow);
    });
  const publish = (p: Publishable) => {
    const ev = hub.publish(p);
    fanout?.share(ev, p);
  };
  const onStart = guard((s: RequestStart) => publish({ type: 'request.start', key_id: s.key_id, workspace: s.workspace, scope: null, data: s }));
  const onLogs = guard((rows: readonly LogRow[]) => {
    for (const row of rows) {
      publish({ type: 'request.finish', key_id: row.key_id, workspace: row.workspace, scope: null, data: row });
      spendAfter(row);
    }
  });
  const onAlert = guard((a: BudgetAlert) => hub.defer(() => alertEvent(rt, a), fanout?.share));
  rt.events.on('request.start', onStart).on('logs', onLogs).on('alert', onAlert);
  hubs.set(rt, {
    hub,
    detach: () => {
      rt.events.off('request.start', onStart).off('logs', onLogs).off('alert', onAlert);
      fanout?.stop();
      hubs.delete(rt);
    },
  });
  return hub;
}

/** The budgets that applied to a finished request, as they stand now. */
async function spendEvent(rt: Runtime, keyId: string, row: LogRow): Promise<Publishable | undefined> {
  const key = await rt.store.getKey(keyId);
  if (!key) return undefined;
  const now = Date.now();
  const budgets = await Promise.all(keyMeters(rt, key, row.metadata).map((m) => budgetView(rt, m, now)));
  return { type: 'spend', key_id: key.id, workspace: key.workspace, scope: null, data: { key_id: key.id, request_id: row.id, budgets } };
}

function keyMeters(rt: Runtime, key: KeyRecord, metadata: Record<string, string>): Meter[] {
  const ws = rt.policies.workspace(key.workspace);
  try {
    return scopesFor({ budgets: rt.config.budgets, workspace: ws }, key, metadata).meters;
  } catch (e) {
    // The workspace budgets each developer and this request named none (so it was refused):
    // the key's and the workspace's own budgets still apply.
    if (!ws) throw e;
    return scopesFor({ budgets: rt.config.budgets, workspace: { ...ws, user_budget: undefined, user_limits: undefined } }, key, metadata).meters;
  }
}

/** Alerts carry the key and workspace they concern, so the admin stream can filter them. */
async function alertEvent(rt: Runtime, a: BudgetAlert): Promise<Publishable> {
  const [kind, ...rest] = a.scope.split(':');
  let key_id: string | null = null;
  let workspace: string | null = null;
  if (kind === 'key') {
    key_id = rest.join(':');
    workspace = (await rt.store.getKey(key_id))?.workspace ?? null;
  } else if (kind === 'ws') workspace = rest.join(':');
  else if (kind === 'user') workspace = rest[0] ?? null;
  return { type: 'budget.alert', key_id, workspace, scope: a.scope, data: a };
}

/** Open streams of one plugin, ended when the server closes. */
type Streams = Set<() => void>;

function openStream(hub: LiveHub, req: FastifyRequest, reply: FastifyReply, streams: Streams, s: { filter: LiveFilter; spendFor?: string; reload: string }): void {
  const opts = liveOptions();
  // CORS and other headers set by hooks so far: writeHead after hijack would drop them.
  const hooked: Record<string, string | number | string[] | undefined> = reply.getHeaders();
  const headers: OutgoingHttpHeaders = { ...hooked, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' };
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }

  let open = true;
  // Writes go out in order; a client that cannot keep up is dropped once its backlog passes the
  // bound, so one stalled reader costs at most that much memory and never slows the others.
  const write = (chunk: string) => {
    if (!open) return;
    if (res.writableLength > opts.maxBacklogBytes) {
      req.log.warn({ backlog: res.writableLength }, 'live events: dropping a client that is not reading');
      end();
      res.destroy();
      return;
    }
    res.write(chunk);
  };
  const last = req.headers['last-event-id'];
  const sub = hub.subscribe({ filter: s.filter, spendFor: s.spendFor, lastEventId: typeof last === 'string' ? last : undefined, send: (ev) => write(ev.frame) });
  const heartbeat = setInterval(() => write(': heartbeat\n\n'), opts.heartbeatMs);
  // A stream never keeps the process alive.
  heartbeat.unref();
  const end = () => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    sub.close();
    streams.delete(close);
  };
  const close = () => {
    end();
    res.end();
  };
  streams.add(close);
  res.on('close', end);

  write(': connected\n\n');
  if (sub.backlog === 'reset') {
    write(sseFrame(sub.lastId, 'reset', { reason: 'The events after Last-Event-ID are no longer kept.', reload: s.reload }));
  } else for (const ev of sub.backlog) write(ev.frame);
}

function endOnClose(app: FastifyInstance, rt: Runtime): Streams {
  const streams: Streams = new Set();
  // Before the server stops: an open stream would otherwise hold shutdown for its whole grace.
  app.addHook('preClose', async () => {
    for (const close of [...streams]) close();
  });
  app.addHook('onClose', async () => hubs.get(rt)?.detach());
  return streams;
}

export function meEventRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    const hub = hubFor(rt, app.log);
    const streams = endOnClose(app, rt);
    app.get('/me/events', async (req, reply) => {
      const key = req.gatehouseKey;
      if (!key) throw errors.missingKey();
      openStream(hub, req, reply, streams, { filter: keyFilter(key), spendFor: key.id, reload: '/api/me/logs' });
    });
  };
}

export function adminEventRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    const hub = hubFor(rt, app.log);
    const streams = endOnClose(app, rt);
    app.get<{ Querystring: Record<string, string | string[] | undefined> }>('/events', async (req, reply) => {
      const q: { workspace?: string; key_id?: string } = {};
      for (const [name, raw] of Object.entries(req.query)) {
        const v = Array.isArray(raw) ? raw.at(-1) : raw;
        if (name !== 'workspace' && name !== 'key_id') throw errors.invalidParam(`Unknown filter "${name}". Filter on workspace and key_id.`);
        if (v !== undefined) q[name] = v;
      }
      openStream(hub, req, reply, streams, { filter: adminFilter(q), reload: '/api/admin/logs' });
    });
  };
}
