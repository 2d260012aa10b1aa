// Live events over SSE, read with a real EventSource client: a developer sees its own requests
// start and finish, its spend and its budget alerts; the admin sees everything, filtered;
// reconnecting with Last-Event-ID misses nothing; 20 clients under load get every event once,
// in order; a client that stops reading is dropped; shutdown ends the streams.
import { EventSource } from 'eventsource';
import { createParser } from 'eventsource-parser';
import { get, type IncomingMessage } from 'node:http';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { hubFor } from '../../gateway/src/api/events.js';
import type { BudgetView } from '../../gateway/src/api/schemas.js';
import type { BudgetAlert } from '../../gateway/src/governance/alerts.js';
import { setLiveOptions, type LiveOptions } from '../../gateway/src/observe/live-events.js';
import type { LogRow, RequestStart } from '../../gateway/src/observe/log-row.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let saved: LiveOptions;
const open: Array<{ close(): void }> = [];

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => {
  emu.reset();
  saved = setLiveOptions({});
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
  setLiveOptions(saved);
});

type Got = { type: 'request.start'; id: number; data: RequestStart } | { type: 'request.finish'; id: number; data: LogRow } | { type: 'spend'; id: number; data: { key_id: string; request_id: string; budgets: BudgetView[] } } | { type: 'budget.alert'; id: number; data: BudgetAlert } | { type: 'reset'; id: number; data: { reload: string } };
const TYPES = ['request.start', 'request.finish', 'spend', 'budget.alert', 'reset'] as const;

/** A real EventSource on a gateway stream; resolves once the stream is open (and subscribed). */
async function listen(path: string, token: string, lastEventId?: string) {
  const got: Got[] = [];
  const es = new EventSource(gw.url + path, {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } }),
  });
  for (const type of TYPES) es.addEventListener(type, (e) => got.push({ type, id: Number(e.lastEventId), data: JSON.parse(e.data as string) } as Got));
  open.push(es);
  await new Promise<void>((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (e) => reject(new Error(`stream failed: ${e.code} ${e.message}`));
  });
  const of = <T extends Got['type']>(type: T) => got.filter((g): g is Extract<Got, { type: T }> => g.type === type);
  return { es, got, of, finishes: () => of('request.finish').map((g) => g.data.id) };
}

/** A request start as the gateway emits it (for tests that need many events fast). */
const start = (id: string, key_id: string, metadata: Record<string, string> = {}): RequestStart => ({ id, created_at: new Date().toISOString(), workspace: 'default', key_id, metadata, endpoint: 'messages', stream: false, model: 'claude-sonnet-5-5' });

/** One non-streaming request; returns its request id. */
async function ask(key: string, usage?: { input_tokens: number; output_tokens: number }): Promise<string> {
  if (usage) emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage });
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  expect(res.status).toBe(200);
  // `request-id` is the provider's; the gateway's own id (the log row's) comes back as the trace id.
  return res.headers.get('x-portkey-trace-id')!;
}

describe('who sees what', () => {
  it('refuses a stream without a key, or a developer key on the admin stream', async () => {
    expect((await fetch(`${gw.url}/api/me/events`)).status).toBe(401);
    const k = await gw.createKey({ name: 'nosy' });
    expect((await fetch(`${gw.url}/api/admin/events`, { headers: { authorization: `Bearer ${k.key}` } })).status).toBe(401);
    const typo = await fetch(`${gw.url}/api/admin/events?key=x`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(typo.status).toBe(400);
  });

  it("a developer sees its own requests start, finish and spend, not another key's; the admin sees both and filters", async () => {
    const a = await gw.createKey({ name: 'ev-a', budget_usd: 5, budget_period: 'day' });
    const b = await gw.createKey({ name: 'ev-b' });
    const mine = await listen('/api/me/events', a.key);
    const all = await listen('/api/admin/events', gw.adminKey);
    const onlyA = await listen(`/api/admin/events?key_id=${a.id}`, gw.adminKey);
    const idA = await ask(a.key, { input_tokens: 1000, output_tokens: 100 });
    const idB = await ask(b.key);
    await vi.waitFor(() => expect(mine.of('spend')).toHaveLength(1));
    await vi.waitFor(() => expect(all.finishes()).toEqual([idA, idB]));

    expect(mine.got.map((g) => g.type)).toEqual(['request.start', 'request.finish', 'spend']);
    expect(mine.of('request.start')[0]!.data).toMatchObject({ id: idA, key_id: a.id, workspace: 'default', endpoint: 'messages', stream: false, model: 'claude-sonnet-5-5' });
    const finish = mine.of('request.finish')[0]!.data;
    expect(finish).toMatchObject({ id: idA, key_id: a.id, key_name: 'ev-a', status: 200, outcome: 'ok', input_tokens: 1000, output_tokens: 100 });
    expect(finish.cost_usd).toBeCloseTo((1000 * 2 + 100 * 10) / 1e6, 12);
    const spend = mine.of('spend')[0]!.data;
    expect(spend).toMatchObject({ key_id: a.id, request_id: idA, budgets: [{ scope: `key:${a.id}`, unit: 'usd', limit: 5, period: 'day', reserved: 0 }] });
    expect(spend.budgets[0]!.spent).toBeCloseTo(finish.cost_usd!, 12);
    expect(JSON.stringify(mine.got)).not.toContain(b.id);

    expect(all.of('request.start').map((g) => g.data.id)).toEqual([idA, idB]);
    expect(all.of('spend')).toHaveLength(0);
    await vi.waitFor(() => expect(onlyA.finishes()).toEqual([idA]));
    expect(onlyA.got.every((g) => g.type !== 'spend' && (g.data as { key_id: string }).key_id === a.id)).toBe(true);
    // Ids increase across the process.
    const ids = all.got.map((g) => g.id);
    expect(ids).toEqual([...ids].sort((x, y) => x - y));
  });

  it('a budget alert reaches the stream of the key it concerns, and no other', async () => {
    const k = await gw.createKey({ name: 'ev-alert', budget_usd: 0.02, budget_period: 'day' });
    const other = await gw.createKey({ name: 'ev-bystander' });
    const mine = await listen('/api/me/events', k.key);
    const theirs = await listen('/api/me/events', other.key);
    // $0.015 of $0.02: 75 %.
    await ask(k.key, { input_tokens: 0, output_tokens: 1500 });
    await vi.waitFor(() => expect(mine.of('budget.alert')).toHaveLength(1));
    expect(mine.of('budget.alert')[0]!.data).toMatchObject({ type: 'budget.threshold', scope: `key:${k.id}`, threshold: 50, unit: 'usd', limit: 0.02 });
    await hubFor(gw.runtime).settled();
    expect(theirs.got).toHaveLength(0);
  });
});

describe('reconnecting', () => {
  it('with Last-Event-ID gets exactly the events it missed, then live ones; too old gets a reset', async () => {
    const k = await gw.createKey({ name: 'ev-reconnect', budget_usd: 5 });
    const witness = await listen('/api/me/events', k.key);
    const first = await listen('/api/me/events', k.key);
    await ask(k.key);
    await vi.waitFor(() => expect(first.of('spend')).toHaveLength(1));
    const lastSeen = first.got.at(-1)!.id;
    first.es.close();
    // A spend event follows its request's finish once the budget state is read (later on
    // PostgreSQL than on SQLite): wait for it before the next request, so the order is fixed.
    const missed = [await ask(k.key)];
    await vi.waitFor(() => expect(witness.of('spend')).toHaveLength(2));
    missed.push(await ask(k.key));
    await vi.waitFor(() => expect(witness.of('spend')).toHaveLength(3));

    const again = await listen('/api/me/events', k.key, String(lastSeen));
    const expected = witness.got.filter((g) => g.id > lastSeen);
    expect(expected.map((g) => g.type)).toEqual(['request.start', 'request.finish', 'spend', 'request.start', 'request.finish', 'spend']);
    await vi.waitFor(() => expect(again.got).toEqual(expected));
    expect(again.finishes()).toEqual(missed);
    const live = await ask(k.key);
    await vi.waitFor(() => expect(again.of('spend')).toHaveLength(3));
    expect(again.finishes()).toEqual([...missed, live]);

    // An id from an earlier run of the gateway, and one the ring no longer holds.
    const stale = await listen('/api/me/events', k.key, '1');
    await vi.waitFor(() => expect(stale.got).toEqual([expect.objectContaining({ type: 'reset', data: expect.objectContaining({ reload: '/api/me/logs' }) })]));
    for (let i = 0; i < 1_001; i++) gw.runtime.events.emit('request.start', start(`filler-${i}`, 'nobody'));
    const evicted = await listen('/api/me/events', k.key, String(lastSeen));
    await vi.waitFor(() => expect(evicted.got.map((g) => g.type)).toEqual(['reset']));
  });
});

describe('heartbeats, load, slow clients, shutdown', () => {
  it('sends a heartbeat comment on a quiet stream', async () => {
    setLiveOptions({ heartbeatMs: 50 });
    const k = await gw.createKey({ name: 'ev-quiet' });
    const ac = new AbortController();
    open.push({ close: () => ac.abort() });
    const res = await fetch(`${gw.url}/api/me/events`, { headers: { authorization: `Bearer ${k.key}` }, signal: ac.signal });
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('cache-control')).toBe('no-cache');
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const comments: string[] = [];
    const parser = createParser({ onComment: (c) => comments.push(c.trim()) });
    const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
    while (comments.filter((c) => c === 'heartbeat').length < 2) parser.feed((await reader.read()).value ?? '');
    expect(comments[0]).toBe('connected');
  });

  it('20 clients while 200 requests run, 20 at a time: each gets every finish of its key once, in order', async () => {
    const keys = await Promise.all([0, 1, 2, 3].map((i) => gw.createKey({ name: `ev-load-${i}` })));
    const clients = await Promise.all(Array.from({ length: 20 }, (_, i) => listen('/api/me/events', keys[i % 4]!.key).then((c) => ({ c, key: i % 4 }))));
    const sent: string[][] = [[], [], [], []];
    let next = 0;
    await Promise.all(
      Array.from({ length: 20 }, async () => {
        for (let n = next++; n < 200; n = next++) sent[n % 4]!.push(await ask(keys[n % 4]!.key));
      }),
    );
    for (const { c, key } of clients) {
      await vi.waitFor(() => expect(c.of('spend')).toHaveLength(50));
      expect(new Set(c.finishes())).toEqual(new Set(sent[key]));
      expect(c.finishes()).toHaveLength(50);
      expect(c.of('request.start').map((g) => g.data.id).sort()).toEqual([...sent[key]!].sort());
      const ids = c.got.map((g) => g.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort((x, y) => x - y));
      // Every client of a key saw the same sequence.
      expect(c.got).toEqual(clients.find((o) => o.key === key)!.c.got);
      expect(c.got.every((g) => (g.data as { key_id: string }).key_id === keys[key]!.id)).toBe(true);
    }
  });

  it('drops a client that stops reading, without holding up the others', async () => {
    setLiveOptions({ maxBacklogBytes: 64 * 1024 });
    const k = await gw.createKey({ name: 'ev-slow' });
    const hub = hubFor(gw.runtime);
    const healthy = await listen('/api/me/events', k.key);
    // Streams of earlier tests are closed by now.
    await vi.waitFor(() => expect(hub.size).toBe(1));
    const before = 1;
    const stalled = await new Promise<IncomingMessage>((resolve) => get(`${gw.url}/api/me/events`, { headers: { authorization: `Bearer ${k.key}` } }, resolve));
    stalled.pause();
    open.push({ close: () => stalled.destroy() });
    await vi.waitFor(() => expect(hub.size).toBe(before + 1));
    // Emitted as the gateway does, to keep the test fast; paced by the healthy client, until the
    // stalled one's socket buffers are full and its backlog passes the bound.
    const blob = 'x'.repeat(64 * 1024);
    let sent = 0;
    while (hub.size > before && sent < 20_000) {
      gw.runtime.events.emit('request.start', start(`big-${sent++}`, k.id, { blob }));
      await vi.waitFor(() => expect(healthy.got).toHaveLength(sent), { interval: 1 });
    }
    expect(hub.size).toBe(before);
    expect(healthy.es.readyState).toBe(EventSource.OPEN);
    gw.runtime.events.emit('request.start', start('after', k.id));
    await vi.waitFor(() => expect(healthy.of('request.start').at(-1)?.data.id).toBe('after'));
  });

  it('keeps CORS headers, and ends open streams when the gateway shuts down', async () => {
    const other = await startGateway(anthropicConfig(emu.url, { server: { cors: { origins: ['https://pivot.claude.ai'] } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
    const k = await other.createKey({ name: 'ev-shutdown' });
    const res = await fetch(`${other.url}/api/me/events`, { headers: { authorization: `Bearer ${k.key}`, origin: 'https://pivot.claude.ai' } });
    // The CORS headers survive the take-over of the response.
    expect(res.headers.get('access-control-allow-origin')).toBe('https://pivot.claude.ai');
    const body = res.text();
    await other.close();
    // Ended by the gateway, not cut when the grace ran out (that would reject).
    await expect(body).resolves.toContain(': connected');
  });
});
