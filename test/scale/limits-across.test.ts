// Three gateway instances sharing one Redis, as a multi-instance deployment runs them: a limit of
// 100 requests a minute admits 100 in total, not 100 each; a budget holds as on one instance; and
// when Redis goes away, budgets refuse with a message naming it while rate limits follow
// `redis.on_failure`, until Redis is back (no gateway restart).
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { sharedStore, shareKey, type SharedStore } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let emu: AnthropicEmulator;
const gws: TestGateway[] = [];
let store: SharedStore;

beforeAll(async () => {
  redis = await startRedis();
  emu = await AnthropicEmulator.start();
  const prefix = `scale-${randomUUID().slice(0, 8)}:`;
  store = await sharedStore();
  // The third instance admits without counting while Redis is down; the others refuse.
  for (const rateLimits of ['closed', 'closed', 'open']) {
    gws.push(await startGateway(anthropicConfig(emu.url, { ...store.config, redis: { url: 'env:REDIS_URL', key_prefix: prefix, on_failure: { rate_limits: rateLimits } } }), { ...store.env, TEST_ANTHROPIC_KEY: emu.apiKey, REDIS_URL: redis.url }));
  }
});
afterAll(async () => {
  for (const gw of gws) await gw.close();
  await emu?.close();
  await redis?.close();
});
beforeEach(() => emu.reset());

const sharedKey = (body: Record<string, unknown>): Promise<KeyWithSecret> => shareKey(gws, store, body);

const BODY = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 100, messages: [{ role: 'user', content: 'hi' }] });

async function send(gw: TestGateway, key: string) {
  const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key }, body: BODY });
  const text = await res.text();
  return { status: res.status, headers: res.headers, error: res.status >= 400 ? (JSON.parse(text) as { error: { type: string; message: string } }).error : undefined };
}

/** Fires `n` requests at once, spread over the instances. */
const burst = (n: number, key: string) => Promise.all(Array.from({ length: n }, (_, i) => send(gws[i % gws.length]!, key)));

describe('one limit across three instances', () => {
  it('100 rpm admits exactly 100 of 150 concurrent requests; the rest get 429 with retry-after', async () => {
    const k = await sharedKey({ name: 'shared-rpm', rpm: 100 });
    const started = Date.now();
    const results = await burst(150, k.key);
    const elapsedMs = Date.now() - started;
    const ok = results.filter((r) => r.status === 200);
    const refused = results.filter((r) => r.status === 429);
    // A bucket refills 100/60 s: a burst slower than 0.6 s would fairly earn one more request.
    const refilled = Math.floor((elapsedMs * 100) / 60_000);
    expect(ok.length).toBeGreaterThanOrEqual(100);
    expect(ok.length).toBeLessThanOrEqual(100 + refilled);
    expect(ok.length + refused.length).toBe(150);
    for (const r of refused) {
      expect(r.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringMatching(/^The key "shared-rpm" is limited to 100 requests per minute; retry in \d+ s\.$/) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    expect(ok.every((r) => r.headers.get('anthropic-ratelimit-requests-limit') === '100')).toBe(true);
    if (refilled === 0) expect(ok).toHaveLength(100);
  });

  it('a USD budget that covers N requests admits N of 30 concurrent requests across instances', async () => {
    // The emulator reports exactly what the gateway reserves (input estimate + max_tokens), so
    // each request costs E; a budget of 9.5 E gives 9 full grants and one partial: 10 requests.
    const input = Math.ceil(Buffer.byteLength(BODY) / 3);
    const each = (input * 2 + 100 * 10) / 1_000_000; // claude-sonnet-5-5: $2 in, $10 out per million
    for (let i = 0; i < 30; i++) emu.enqueue({ kind: 'message', usage: { input_tokens: input, output_tokens: 100 } });
    const k = await sharedKey({ name: 'shared-budget', budget_usd: 9.5 * each, budget_period: 'day' });
    const results = await burst(30, k.key);
    expect(results.filter((r) => r.status === 200)).toHaveLength(10);
    const refused = results.filter((r) => r.status !== 200);
    expect(refused).toHaveLength(20);
    for (const r of refused) expect(r).toMatchObject({ status: 429, error: { type: 'rate_limit_error', message: expect.stringMatching(/^Budget exhausted: key "shared-budget" has used/) } });
    // Every instance sees the same spend.
    for (const gw of gws) {
      const view = await gw.admin<{ data: Array<{ scope: string; spent: number }> }>('GET', '/api/admin/budgets');
      expect(view.body.data.find((b) => b.scope === `key:${k.id}`)?.spent).toBeCloseTo(10 * each, 12);
    }
  });
});

describe('when Redis goes away', () => {
  it('budgets refuse naming Redis, rate limits follow on_failure, and all recovers when Redis is back', async () => {
    const budgeted = await sharedKey({ name: 'fault-budget', budget_usd: 100, budget_period: 'day' });
    const limited = await sharedKey({ name: 'fault-rpm', rpm: 1000 });
    const free = await sharedKey({ name: 'fault-free' });
    expect((await send(gws[0]!, budgeted.key)).status).toBe(200);

    await redis.stop();
    for (const gw of gws) {
      const r = await send(gw, budgeted.key);
      expect(r.status).toBe(503);
      expect(r.error).toMatchObject({ type: 'overloaded_error', message: expect.stringContaining(`The gateway cannot reach its Redis at 127.0.0.1:${redis.port} to check budgets; requests are refused until it is back`) });
    }
    const closed = await send(gws[0]!, limited.key);
    expect(closed.status).toBe(503);
    expect(closed.error?.message).toMatch(/cannot reach its Redis at .* to check rate limits/);
    expect((await send(gws[2]!, limited.key)).status).toBe(200);
    // A key with neither needs no Redis.
    expect((await send(gws[1]!, free.key)).status).toBe(200);

    await redis.restart();
    await expect.poll(async () => (await send(gws[0]!, budgeted.key)).status, { timeout: 10_000, interval: 200 }).toBe(200);
    for (const gw of gws) {
      expect((await send(gw, budgeted.key)).status).toBe(200);
      expect((await send(gw, limited.key)).status).toBe(200);
    }
  });
});
