// Two gateway instances sharing one Redis: an answer relayed by one is a cache HIT on the other,
// JSON and streams alike (the stream replayed byte for byte), for as long as the config's
// max_age; and a Redis that goes away turns the cache into MISSes, never into failed requests,
// until it is back.
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { sharedStore, shareKey } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let emu: AnthropicEmulator;
/** Reads what the gateways stored, as an operator would with redis-cli. */
let probe: Redis;
const prefix = `cache-${randomUUID().slice(0, 8)}:`;
const gws: TestGateway[] = [];
/** Keys by routing config, the same on both instances. */
const keys: Record<'long' | 'short', string> = { long: '', short: '' };

beforeAll(async () => {
  redis = await startRedis();
  emu = await AnthropicEmulator.start();
  probe = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
  probe.on('error', () => undefined);
  const config = anthropicConfig(emu.url, {
    configs: { long: { cache: { mode: 'simple', max_age: 60 } }, short: { cache: { mode: 'simple', max_age: 1 } } },
    redis: { url: 'env:REDIS_URL', key_prefix: prefix },
  });
  const store = await sharedStore();
  for (let i = 0; i < 2; i++) gws.push(await startGateway({ ...config, ...store.config }, { ...store.env, TEST_ANTHROPIC_KEY: emu.apiKey, REDIS_URL: redis.url }));
  for (const config of ['long', 'short'] as const) keys[config] = (await shareKey(gws, store, { name: `cache-${config}`, config })).key;
});
afterAll(async () => {
  for (const gw of gws) await gw.close();
  probe?.disconnect();
  await emu?.close();
  await redis?.close();
});
beforeEach(async () => {
  emu.reset();
  await probe.flushall();
});
afterEach(() => vi.restoreAllMocks());

const [A, B] = [0, 1];

async function send(gw: number, body: Record<string, unknown>, opts: { config?: 'long' | 'short'; headers?: Record<string, string> } = {}) {
  const res = await fetch(`${gws[gw]!.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': keys[opts.config ?? 'long'], ...opts.headers },
    body: JSON.stringify(body),
  });
  return { status: res.status, cache: res.headers.get('x-portkey-cache-status'), type: res.headers.get('content-type'), bytes: Buffer.from(await res.arrayBuffer()) };
}

const ask = (text: string, extra: Record<string, unknown> = {}) => ({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: text }], ...extra });

/** An instance stores after its client has the answer: wait until Redis holds `n` answers. */
const cached = async (n: number) => expect.poll(async () => (await probe.keys(`${prefix}cache:*`)).length, { timeout: 5_000, interval: 50 }).toBe(n);

describe('one cache across two instances', () => {
  it('serves a JSON answer relayed by A as a HIT on B, without a second upstream call', async () => {
    const first = await send(A, ask('json once'));
    expect(first).toMatchObject({ status: 200, cache: 'MISS' });
    await cached(1);
    const [stored] = await probe.keys(`${prefix}cache:*`);
    // Stored under the configured prefix, with Redis expiring it after max_age.
    expect(stored).toMatch(new RegExp(`^${prefix}cache:[0-9a-f]{64}$`));
    expect(await probe.pttl(stored!)).toBeGreaterThan(55_000);

    const again = await send(B, ask('json once'));
    expect(again).toMatchObject({ status: 200, cache: 'HIT', type: first.type });
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(emu.requests).toHaveLength(1);
  });

  it('replays a stream relayed by A on B byte for byte; force-refresh on B goes upstream again', async () => {
    const first = await send(A, ask('stream once', { stream: true }));
    expect(first).toMatchObject({ status: 200, cache: 'MISS' });
    expect(first.type).toMatch(/^text\/event-stream/);
    expect(first.bytes.toString()).toContain('event: message_stop');
    await cached(1);

    const again = await send(B, ask('stream once', { stream: true }));
    expect(again).toMatchObject({ status: 200, cache: 'HIT', type: first.type });
    expect(again.bytes.equals(first.bytes)).toBe(true);
    expect(emu.requests).toHaveLength(1);

    const refreshed = await send(B, ask('stream once', { stream: true }), { headers: { 'x-portkey-cache-force-refresh': 'true' } });
    expect(refreshed).toMatchObject({ status: 200, cache: 'REFRESH' });
    expect(emu.requests).toHaveLength(2);
  });

  it('never stores an error', async () => {
    emu.enqueue({ kind: 'status', status: 500 });
    expect((await send(A, ask('an error'))).status).toBe(500);
    const next = await send(B, ask('an error'));
    expect(next).toMatchObject({ status: 200, cache: 'MISS' });
    expect(emu.requests).toHaveLength(2);
    // Only the 200 was stored (and before the next test empties Redis).
    await cached(1);
  });

  it('honours max_age: an answer is a HIT within it and a MISS after it', async () => {
    expect(await send(A, ask('short-lived'), { config: 'short' })).toMatchObject({ status: 200, cache: 'MISS' });
    await cached(1);
    expect(await send(B, ask('short-lived'), { config: 'short' })).toMatchObject({ status: 200, cache: 'HIT' });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(await send(B, ask('short-lived'), { config: 'short' })).toMatchObject({ status: 200, cache: 'MISS' });
    expect(emu.requests).toHaveLength(2);
    await cached(1);
  });
});

describe('when Redis goes away', () => {
  it('answers every request (MISS, nothing stored), warns once per instance, and caches again once Redis is back', async () => {
    const warn = vi.spyOn(console, 'warn');
    await redis.stop();
    for (const gw of [A, B, A, B]) expect(await send(gw, ask('during the outage'))).toMatchObject({ status: 200, cache: 'MISS' });
    expect(emu.requests).toHaveLength(4);
    const warnings = warn.mock.calls.map((c) => String(c[0])).filter((line) => line.includes('the response cache answers MISS'));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(`127.0.0.1:${redis.port}`);

    await redis.restart();
    // The instances reconnect by themselves within about a second; until then, still MISSes.
    await expect
      .poll(
        async () => {
          await send(A, ask('after the outage'));
          return (await probe.keys(`${prefix}cache:*`)).length;
        },
        { timeout: 10_000, interval: 200 },
      )
      .toBe(1);
    const upstream = emu.requests.length;
    expect(await send(B, ask('after the outage'))).toMatchObject({ status: 200, cache: 'HIT' });
    expect(emu.requests).toHaveLength(upstream);
  });
});
