// The extension's live feed against a scripted gateway (fetch answered in-process): the REST
// load, events applied once each, the back-off sequence, Last-Event-ID on reconnect, `reset`
// reloading, alerts said once, and stop() ending everything. The same feed against a real
// gateway (restart included) is test/gateway/live-feed.test.ts.
import { afterEach, describe, expect, it } from 'vitest';
import type { BudgetView, Connection, LogEntry } from '../../webview/src/protocol.js';
import { LiveFeed, type FeedEvent } from '../../extension/src/core/live-feed.js';

const BASE = 'http://gw.test';

const row = (id: string, cost = 0.1, session: string | null = 's1'): LogEntry =>
  ({ id, created_at: new Date().toISOString(), session_id: session, cost_usd: cost, input_tokens: 1, output_tokens: 1, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, outcome: 'ok', status: 200 }) as LogEntry;
const budget = (spent: number): BudgetView => ({ scope: 'key:k', label: 'Key daily', unit: 'usd', limit: 10, period: 'day', timezone: 'UTC', period_key: 'd', period_start: null, resets_at: null, spent, reserved: 0, remaining: 10 - spent });

type Plan = 'refuse' | { status: number } | 'stream';

/** A gateway in a fetch: REST answers from its state, each events call takes the next plan. */
class Scripted {
  rows: LogEntry[] = [];
  budgets: BudgetView[] = [budget(0)];
  plans: Plan[] = [];
  eventHeaders: Array<Record<string, string>> = [];
  logCalls = 0;
  #stream: ReadableStreamDefaultController<Uint8Array> | null = null;

  fetch = async (url: string, init?: RequestInit): Promise<Response> => {
    const path = url.slice(BASE.length);
    if (path === '/api/me') return Response.json({ key: {}, workspace: {}, profile: {}, budgets: this.budgets });
    if (path.startsWith('/api/me/logs?')) {
      this.logCalls++;
      return Response.json({ data: [...this.rows].reverse(), next_cursor: null });
    }
    this.eventHeaders.push({ ...(init?.headers as Record<string, string>) });
    const plan = this.plans.shift() ?? 'refuse';
    if (plan === 'refuse') throw new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    if (plan !== 'stream') return Response.json({ error: { type: 'authentication_error', message: 'Invalid API key.', details: { error_code: 'unknown_key' } } }, { status: plan.status });
    const body = new ReadableStream<Uint8Array>({ start: (c) => void (this.#stream = c) });
    init?.signal?.addEventListener('abort', () => this.#stream?.error(new DOMException('aborted', 'AbortError')));
    return new Response(body, { status: 200, headers: { 'content-type': 'text/event-stream' } });
  };

  send(id: number, event: string, data: unknown): void {
    this.#stream!.enqueue(new TextEncoder().encode(`id: ${id}\nevent: ${event}\ndata: ${JSON.stringify(data)}\n\n`));
  }

  end(): void {
    this.#stream!.close();
  }
}

const feeds: LiveFeed[] = [];
afterEach(async () => {
  for (const f of feeds.splice(0)) await f.stop();
});

function make(gw: Scripted, backoffS = [0.01, 0.02, 0.05]) {
  const feed = new LiveFeed({ gateway: BASE, key: 'ghk_test', fetch: gw.fetch, backoffS });
  feeds.push(feed);
  const events: FeedEvent[] = [];
  feed.onEvent((e) => events.push(e));
  return { feed, events, connections: () => events.filter((e): e is Extract<FeedEvent, { type: 'connection' }> => e.type === 'connection').map((e) => e.connection) };
}

async function until<T>(probe: () => T | undefined | false, ms = 3_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('live feed', () => {
  it('loads today, goes live, and applies each event once', async () => {
    const gw = new Scripted();
    gw.rows = [row('r1', 0.5)];
    gw.plans = ['stream'];
    const { feed, events } = make(gw);
    feed.start();
    await until(() => feed.connection.state === 'live');
    expect(gw.eventHeaders[0]).toMatchObject({ accept: 'text/event-stream', authorization: 'Bearer ghk_test' });
    expect(feed.rowCount).toBe(1);
    gw.send(1, 'request.start', { id: 'r2', created_at: new Date().toISOString(), model: 'm', stream: true, endpoint: 'messages', key_id: 'k' });
    await until(() => feed.snapshot().inFlight.length === 1);
    gw.send(2, 'request.finish', row('r2', 0.25, 's2'));
    gw.send(3, 'request.finish', row('r1', 0.5)); // already loaded: replaced, not added
    gw.send(4, 'spend', { key_id: 'k', request_id: 'r2', budgets: [budget(0.75)] });
    await until(() => feed.budgets()[0]?.spent === 0.75);
    expect(feed.rowCount).toBe(2);
    expect(feed.snapshot().inFlight).toEqual([]);
    expect(feed.currentSession()).toBe('s2');
    expect(events.filter((e) => e.type === 'row')).toHaveLength(2);
  });

  it('backs off 1, 2, 5… (scaled) while the gateway is down, then resumes with Last-Event-ID', async () => {
    const gw = new Scripted();
    gw.plans = ['stream', 'refuse', 'refuse', 'refuse', 'refuse', 'stream'];
    const { feed, connections } = make(gw);
    feed.start();
    await until(() => feed.connection.state === 'live');
    gw.send(41, 'request.finish', row('r1'));
    await until(() => feed.rowCount === 1);
    gw.end();
    await until(() => gw.eventHeaders.length === 6 && feed.connection.state === 'live');
    const offline = connections().filter((c): c is Extract<Connection, { state: 'offline' }> => c.state === 'offline');
    expect(offline.map((c) => c.retryInS)).toEqual([0.01, 0.02, 0.05, 0.05, 0.05]);
    expect(offline[0]!.reason).toMatch(/closed the live stream/);
    expect(offline[1]!.reason).toMatch(/Connection refused/);
    // One outage, one "since".
    expect(new Set(offline.map((c) => c.since)).size).toBe(1);
    expect(gw.eventHeaders[0]!['last-event-id']).toBeUndefined();
    expect(gw.eventHeaders.slice(1).map((h) => h['last-event-id'])).toEqual(['41', '41', '41', '41', '41']);
    // It resumed from the id: no reload was needed.
    expect(gw.logCalls).toBe(1);
  });

  it('reloads on reset, without counting a row twice', async () => {
    const gw = new Scripted();
    gw.rows = [row('r1')];
    gw.plans = ['stream'];
    const { feed } = make(gw);
    feed.start();
    await until(() => feed.connection.state === 'live');
    gw.rows.push(row('r2'), row('r3'));
    gw.send(7, 'reset', { reason: 'gateway restarted', reload: '/api/me/logs' });
    await until(() => feed.rowCount === 3);
    gw.send(8, 'request.finish', row('r3'));
    gw.send(9, 'request.finish', row('r4'));
    await until(() => feed.rowCount === 4);
    expect(gw.logCalls).toBe(2);
  });

  it('reloads after reconnecting when it never had an event id', async () => {
    const gw = new Scripted();
    gw.plans = ['stream', 'stream'];
    const { feed } = make(gw);
    feed.start();
    await until(() => feed.connection.state === 'live');
    gw.rows.push(row('r9'));
    gw.end();
    await until(() => feed.rowCount === 1);
    expect(gw.logCalls).toBe(2);
  });

  it('says a budget alert once, even when it is replayed', async () => {
    const gw = new Scripted();
    gw.plans = ['stream'];
    const { feed, events } = make(gw);
    feed.start();
    await until(() => feed.connection.state === 'live');
    const alert = { type: 'budget.threshold', scope: 'key:k', label: 'Key daily', threshold: 0.8, period_start: 'p', message: '80% of Key daily used' };
    gw.send(1, 'budget.alert', alert);
    gw.send(2, 'budget.alert', alert);
    gw.send(3, 'budget.alert', { ...alert, threshold: 1 });
    gw.send(4, 'spend', { budgets: [] });
    await until(() => events.some((e) => e.type === 'budgets'));
    expect(events.filter((e) => e.type === 'alert')).toHaveLength(2);
  });

  it('is offline with the gateway\'s words when the key is refused, and stop() ends it', async () => {
    const gw = new Scripted();
    gw.plans = [{ status: 401 }];
    const { feed, connections } = make(gw, [60]);
    feed.start();
    const off = await until(() => (feed.connection.state === 'offline' ? feed.connection : undefined));
    expect(off.reason).toMatch(/^401 Unauthorized/);
    expect(off.retryInS).toBe(60);
    const t = Date.now();
    await feed.stop();
    expect(Date.now() - t).toBeLessThan(1_000);
    expect(connections().at(-1)).toEqual({ state: 'disconnected' });
  });
});
