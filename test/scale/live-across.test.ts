// Live events across instances: two gateways share a store (one SQLite data directory stands in
// for the shared database) and one Redis. A stream on either instance sees the requests of both,
// under the same ids, so a client that reconnects to the other instance with Last-Event-ID
// misses nothing; a developer's spend events come from the shared budget counters.
import { EventSource } from 'eventsource';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { ADMIN_KEY, anthropicConfig, type TestGateway } from '../helpers/gateway.js';
import { startPair, type Pair } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let emu: AnthropicEmulator;
let pair: Pair;
let a: TestGateway;
let b: TestGateway;
const open: EventSource[] = [];

beforeAll(async () => {
  redis = await startRedis();
  emu = await AnthropicEmulator.start();
  pair = await startPair(anthropicConfig(emu.url, { redis: { url: 'env:REDIS_URL', key_prefix: 'live:' } }), { TEST_ANTHROPIC_KEY: emu.apiKey, REDIS_URL: redis.url });
  ({ a, b } = pair);
});
afterEach(() => {
  for (const es of open.splice(0)) es.close();
});
afterAll(async () => {
  await pair?.close();
  await emu?.close();
  await redis?.close();
});

interface Got {
  type: string;
  id: number;
  data: { id?: string; request_id?: string; budgets?: Array<{ scope: string; spent: number }> };
}

async function listen(gw: TestGateway, path: string, token: string, lastEventId?: string) {
  const got: Got[] = [];
  const es = new EventSource(gw.url + path, {
    fetch: (url, init) => fetch(url, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}`, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } }),
  });
  for (const type of ['request.start', 'request.finish', 'spend', 'reset']) es.addEventListener(type, (e) => got.push({ type, id: Number(e.lastEventId), data: JSON.parse(e.data as string) as Got['data'] }));
  open.push(es);
  await new Promise<void>((resolve, reject) => {
    es.onopen = () => resolve();
    es.onerror = (e) => reject(new Error(`stream failed: ${e.code} ${e.message}`));
  });
  return got;
}

async function ask(gw: TestGateway, key: string): Promise<string> {
  emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 100, output_tokens: 10 } });
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get('x-portkey-trace-id')!;
}

const finishOf = (got: Got[], id: string) => got.find((g) => g.type === 'request.finish' && g.data.id === id);

describe('live events across instances', () => {
  it("a stream on either instance sees both instances' requests, under the same ids", async () => {
    const k = await a.createKey({ name: 'live' });
    const onA = await listen(a, '/api/admin/events', ADMIN_KEY);
    const onB = await listen(b, '/api/admin/events', ADMIN_KEY);
    const viaA = await ask(a, k.key);
    const viaB = await ask(b, k.key);
    for (const id of [viaA, viaB]) {
      await expect.poll(() => finishOf(onA, id) && finishOf(onB, id), { timeout: 2_000 }).toBeTruthy();
      expect(finishOf(onA, id)!.id).toBe(finishOf(onB, id)!.id);
    }
    const ids = onB.map((g) => g.id);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('a client that reconnects to the other instance with Last-Event-ID gets exactly what it missed', async () => {
    const k = await a.createKey({ name: 'reconnect' });
    const first = await listen(a, '/api/admin/events?key_id=' + k.id, ADMIN_KEY);
    const seen = await ask(a, k.key);
    await expect.poll(() => finishOf(first, seen), { timeout: 2_000 }).toBeTruthy();
    const last = String(first.at(-1)!.id);
    for (const es of open.splice(0)) es.close();
    const missed = await ask(a, k.key);
    await new Promise((r) => setTimeout(r, 200));
    const again = await listen(b, '/api/admin/events?key_id=' + k.id, ADMIN_KEY, last);
    await expect.poll(() => finishOf(again, missed), { timeout: 2_000 }).toBeTruthy();
    expect(again.some((g) => g.type === 'reset' || g.data.id === seen)).toBe(false);
  });

  it("a developer's stream on one instance gets spend for requests on the other", async () => {
    const k = await a.createKey({ name: 'spender', budget_usd: 10, budget_period: 'day' });
    const mine = await listen(b, '/api/me/events', k.key);
    const id = await ask(a, k.key);
    await expect.poll(() => mine.find((g) => g.type === 'spend' && g.data.request_id === id), { timeout: 2_000 }).toBeTruthy();
    const spend = mine.find((g) => g.type === 'spend' && g.data.request_id === id)!;
    // claude-sonnet-5-5: 100 input at $2/M + 10 output at $10/M.
    expect(spend.data.budgets?.find((v) => v.scope === `key:${k.id}`)?.spent).toBeCloseTo(0.0003, 10);
  });
});
