// Admin changes made on one instance are seen by the others at once: two gateways share a store
// (one SQLite data directory stands in for the shared database) and one Redis, and what the admin
// API of one writes is live on the other within a second, deletions included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, type TestGateway } from '../helpers/gateway.js';
import { startPair, type Pair } from '../helpers/instances.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let emu: AnthropicEmulator;
let pair: Pair;
let a: TestGateway;
let b: TestGateway;

beforeAll(async () => {
  redis = await startRedis();
  emu = await AnthropicEmulator.start();
  pair = await startPair(anthropicConfig(emu.url, { redis: { url: 'env:REDIS_URL', key_prefix: 'inval:' } }), { TEST_ANTHROPIC_KEY: emu.apiKey, REDIS_URL: redis.url });
  ({ a, b } = pair);
});
afterAll(async () => {
  await pair?.close();
  await emu?.close();
  await redis?.close();
});

const within = { timeout: 1_000, interval: 25 };

async function send(gw: TestGateway, key: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  return res.status;
}

describe('admin changes across instances', () => {
  it('a workspace created and removed on one instance is there, then gone, on the other', async () => {
    const ids = async () => (await b.admin<{ data: Array<{ id: string }> }>('GET', '/api/admin/workspaces')).body.data.map((w) => w.id);
    expect(await ids()).not.toContain('shared-ws');
    expect((await a.admin('PUT', '/api/admin/workspaces/shared-ws', { limits: { rpm: 5 } })).status).toBe(200);
    await expect.poll(ids, within).toContain('shared-ws');
    expect((await a.admin('DELETE', '/api/admin/workspaces/shared-ws')).status).toBeLessThan(300);
    await expect.poll(ids, within).not.toContain('shared-ws');
  });

  it('a routing config created and deleted on one instance is usable, then refused, on the other', async () => {
    const k = await a.createKey({ name: 'cfg-user' });
    expect((await a.admin('PUT', '/api/admin/configs/shared-cfg', { provider: '@anthropic' })).status).toBe(200);
    await expect.poll(() => send(b, k.key, { 'x-portkey-config': 'shared-cfg' }), within).toBe(200);
    expect((await a.admin('DELETE', '/api/admin/configs/shared-cfg')).status).toBeLessThan(300);
    await expect.poll(() => send(b, k.key, { 'x-portkey-config': 'shared-cfg' }), within).not.toBe(200);
  });

  it('a key revoked on one instance is refused by the other', async () => {
    const k = await a.createKey({ name: 'to-revoke' });
    expect(await send(b, k.key)).toBe(200);
    expect((await a.admin('POST', `/api/admin/keys/${k.id}/revoke`)).status).toBe(200);
    // Sooner than the key cache's own 1 s expiry could explain.
    await expect.poll(() => send(b, k.key), { timeout: 400, interval: 20 }).toBe(401);
  });
});
