// What a key's policy means for the developer using it: which models, which metadata.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    anthropicConfig(emu.url, {
      configs: {
        'by-team': {
          strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.team': 'eng' }, then: 'eng' }], default: 'other' },
          targets: [
            { name: 'eng', provider: '@anthropic', override_params: { model: 'claude-opus-5-5' } },
            { name: 'other', provider: '@anthropic', override_params: { model: 'claude-haiku-5-5' } },
          ],
        },
      },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey },
  );
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

async function send(key: string, model: string, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers },
    body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: (await res.json()) as { error?: { type: string; message: string } } };
}

describe('allowed models', () => {
  it('refuses models outside the key patterns with a 403 that lists them, and lists only allowed models', async () => {
    const { key } = await gw.createKey({ name: 'sonnet-only', allowed_models: ['claude-sonnet-*', 'claude-haiku-4-5*'] });
    const denied = await send(key, 'claude-opus-5-5');
    expect(denied.status).toBe(403);
    expect(denied.body.error).toMatchObject({ type: 'permission_error', message: expect.stringMatching(/Model claude-opus-5-5 is not allowed for this key\. It may use: claude-sonnet-\*, claude-haiku-4-5\*/) });
    expect(emu.requests).toHaveLength(0);
    expect((await send(key, 'claude-sonnet-5-5')).status).toBe(200);
    const list = (await (await fetch(`${gw.url}/v1/models?limit=100`, { headers: { 'x-api-key': key } })).json()) as { data: Array<{ id: string }> };
    expect(list.data.length).toBeGreaterThan(0);
    expect(list.data.every((m) => m.id.startsWith('claude-sonnet-') || m.id.startsWith('claude-haiku-4-5'))).toBe(true);
  });

  it('rejects a malformed pattern when the key is created', async () => {
    const r = await gw.admin<{ error: { message: string } }>('POST', '/api/admin/keys', { name: 'x', allowed_models: ['claude opus'] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/allowed_models\.0: a model id or pattern/);
  });
});

describe('metadata', () => {
  it('requires the fields the key demands, and says which and how', async () => {
    const { key } = await gw.createKey({ name: 'needs-user', required_metadata: ['user'] });
    const r = await send(key, 'claude-sonnet-5-5');
    expect(r.status).toBe(400);
    expect(r.body.error?.message).toBe('This key requires metadata field "user": send them in x-portkey-metadata, e.g. {"user":"..."}.');
    expect((await send(key, 'claude-sonnet-5-5', { 'x-portkey-metadata': '{"user":"dev@example.com"}' })).status).toBe(200);
  });

  it('the key metadata wins over the header (a developer cannot change their team)', async () => {
    const { key } = await gw.createKey({ name: 'eng', metadata: { team: 'eng' }, config: 'by-team' });
    await send(key, 'claude-sonnet-5-5', { 'x-portkey-metadata': '{"team":"sales"}' });
    expect((emu.requests[0]!.json as { model: string }).model).toBe('claude-opus-5-5');
  });

  it('malformed or oversized metadata is a 400 that says what is wrong', async () => {
    const { key } = await gw.createKey({ name: 'meta' });
    const bad = await send(key, 'claude-sonnet-5-5', { 'x-portkey-metadata': "{'team':'eng'}" });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toMatch(/x-portkey-metadata is not valid JSON: unexpected character at column 2. Send an object such as/);
    const many = JSON.stringify(Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`k${i}`, 'v'])));
    expect((await send(key, 'claude-sonnet-5-5', { 'x-portkey-metadata': many })).body.error?.message).toMatch(/has 40 fields; at most 32/);
    const nonString = await send(key, 'claude-sonnet-5-5', { 'x-portkey-metadata': '{"cost_center":42}' });
    expect(nonString.body.error?.message).toBe('x-portkey-metadata.cost_center must be a string; got 42.');
  });
});

describe('rate limits', () => {
  it('admits rpm requests, then answers 429 with retry-after in whole seconds and the ratelimit headers', async () => {
    const { key } = await gw.createKey({ name: 'rpm', rpm: 3 });
    const seen: Array<{ status: number; remaining: string | null; limit: string | null }> = [];
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
        body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
      });
      seen.push({ status: res.status, remaining: res.headers.get('anthropic-ratelimit-requests-remaining'), limit: res.headers.get('anthropic-ratelimit-requests-limit') });
      if (res.status === 429) {
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
        expect(res.headers.get('anthropic-ratelimit-requests-reset')).toMatch(/^\d{4}-\d\d-\d\dT/);
        const body = (await res.json()) as { error: { type: string; message: string } };
        expect(body.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringMatching(/limited to 3 requests per minute; retry in \d+ s/) });
      } else await res.text();
    }
    expect(seen.map((s) => s.status)).toEqual([200, 200, 200, 429]);
    expect(seen.map((s) => s.remaining)).toEqual(['2', '1', '0', '0']);
    expect(seen.every((s) => s.limit === '3')).toBe(true);
    expect(emu.requests).toHaveLength(3);
  });

  it('limits requests in flight at once', async () => {
    const { key } = await gw.createKey({ name: 'conc', max_concurrent: 1 });
    emu.enqueue({ kind: 'stall', afterEvents: 2 });
    const first = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const reader = first.body!.getReader();
    await reader.read();
    const second = await send(key, 'claude-sonnet-5-5');
    expect(second.status).toBe(429);
    expect(second.body.error?.message).toMatch(/at most 1 requests in flight/);
    await reader.cancel();
    await emu.requests[0]!.done;
    // The slot is free again once the gateway has seen the first stream end (it learns of the
    // cancel asynchronously, so give it a moment).
    let third = await send(key, 'claude-sonnet-5-5');
    for (let i = 0; i < 50 && third.status === 429; i++) {
      await new Promise((r) => setTimeout(r, 20));
      third = await send(key, 'claude-sonnet-5-5');
    }
    expect(third.status).toBe(200);
  });
});
