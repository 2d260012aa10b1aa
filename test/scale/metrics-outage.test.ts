// `GET /metrics` of an instance whose budgets live in Redis, while Redis is away: the scrape still
// answers 200 with every request metric, the budget gauges are left out and
// `gatehouse_budget_state_up` says why, and they come back by themselves with Redis.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';
import { parsePrometheus, sumOf, type Sample } from '../helpers/prometheus.js';

let redis: TestRedis;
let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    anthropicConfig(emu.url, {
      workspaces: { eng: { budget: { usd: 5, period: 'month' } } },
      redis: { url: 'env:REDIS_URL', key_prefix: `metrics-${randomUUID().slice(0, 8)}:` },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey, REDIS_URL: redis.url },
  );
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
  await redis?.close();
});

const series = (samples: Sample[], name: string) => samples.filter((s) => s.name === name);

async function scrape(): Promise<{ status: number; samples: Sample[] }> {
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
  return { status: res.status, samples: parsePrometheus(await res.text()) };
}

async function send(key: string): Promise<number> {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.arrayBuffer();
  return res.status;
}

describe('metrics while Redis is away', () => {
  it('serves every other metric with 200, leaves the budget gauges out (state_up 0), and restores them with Redis', async () => {
    const budgeted = await gw.createKey({ name: 'budgeted', workspace: 'eng', budget_usd: 1 });
    const free = await gw.createKey({ name: 'free' });
    expect(await send(budgeted.key)).toBe(200);
    const scope = { scope: `key:${budgeted.id}`, unit: 'usd' };
    const before = await scrape();
    expect(before.status).toBe(200);
    expect(sumOf(before.samples, 'gatehouse_budget_state_up')).toBe(1);
    expect(series(before.samples, 'gatehouse_budget_remaining').filter((s) => s.labels.scope === scope.scope)).toHaveLength(1);

    await redis.stop();
    // A key with no budget or limit needs no Redis: its request is answered and counted.
    expect(await send(free.key)).toBe(200);
    await expect.poll(async () => sumOf((await scrape()).samples, 'gatehouse_requests_total', { status: '200' }), { timeout: 5_000 }).toBe(2);
    const during = await scrape();
    expect(during.status).toBe(200);
    expect(sumOf(during.samples, 'gatehouse_budget_state_up')).toBe(0);
    expect(series(during.samples, 'gatehouse_budget_remaining')).toHaveLength(0);
    expect(series(during.samples, 'gatehouse_request_duration_seconds_count').length).toBeGreaterThan(0);
    expect(series(during.samples, 'gatehouse_inflight_requests')).toHaveLength(1);
    expect(series(during.samples, 'gatehouse_circuit_open').length).toBeGreaterThan(0);

    await redis.restart();
    // Redis came back empty: the ledger reseeds its counters from the store's spend.
    await expect.poll(async () => sumOf((await scrape()).samples, 'gatehouse_budget_state_up'), { timeout: 10_000, interval: 200 }).toBe(1);
    const after = await scrape();
    expect(after.status).toBe(200);
    const remaining = series(after.samples, 'gatehouse_budget_remaining');
    expect(remaining.find((s) => s.labels.scope === scope.scope)?.value).toBe(series(before.samples, 'gatehouse_budget_remaining').find((s) => s.labels.scope === scope.scope)?.value);
    expect(remaining.find((s) => s.labels.scope === 'ws:eng')).toBeDefined();
  });
});
