// Routing configs in the Portkey dialect, with scripted provider faults: which targets were
// called, how often, and what the client saw. The seeds' snippets run as written.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { BedrockEmulator } from '../emulators/bedrock.js';
import { VertexEmulator } from '../emulators/vertex.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

let prod: AnthropicEmulator;
let backup: AnthropicEmulator;
let bedrock: BedrockEmulator;
let vertex: VertexEmulator;
let gw: TestGateway;

// The product docs' snippets, verbatim.
const SEED_FALLBACK = { strategy: { mode: 'fallback' }, targets: [{ provider: '@anthropic-prod' }, { provider: '@bedrock-prod' }, { provider: '@vertex-prod' }] };
const SEED_FORWARD = { provider: '@anthropic-prod', forward_headers: ['anthropic-beta'] };
const SEED_CACHE = { cache: { mode: 'simple' } };

beforeAll(async () => {
  [prod, backup, bedrock, vertex] = await Promise.all([AnthropicEmulator.start(), AnthropicEmulator.start(), BedrockEmulator.start(), VertexEmulator.start()]);
  gw = await startGateway(
    {
      providers: {
        'anthropic-prod': { kind: 'anthropic', api_key: 'env:PROD_KEY', base_url: prod.url },
        'anthropic-backup': { kind: 'anthropic', api_key: 'env:BACKUP_KEY', base_url: backup.url },
        'bedrock-prod': { kind: 'bedrock', region: 'us-east-1', base_url: bedrock.url, access_key_id: 'env:AWS_ID', secret_access_key: 'env:AWS_SECRET' },
        'vertex-prod': { kind: 'vertex', project: vertex.project, region: 'us-east5', base_url: vertex.baseUrl, token_url: vertex.tokenUrl, service_account: 'env:VERTEX_SA' },
      },
      default_provider: 'anthropic-prod',
      // Faults are scripted on purpose here; circuits get their own gateway below.
      routing: { circuit_breaker: { failure_threshold: 1000, cooldown_ms: 60_000 } },
      configs: {
        'desktop-eng-prod': SEED_FALLBACK,
        'seed-forward': SEED_FORWARD,
        'seed-cache': SEED_CACHE,
        'only-429': { strategy: { mode: 'fallback', on_status_codes: [429] }, targets: [{ provider: '@anthropic-prod' }, { provider: '@anthropic-backup' }] },
        retrying: { provider: '@anthropic-prod', retry: { attempts: 2 } },
        'slow-first': { strategy: { mode: 'fallback' }, targets: [{ provider: '@anthropic-prod', request_timeout: 300 }, { provider: '@anthropic-backup' }] },
        'cheap-dev': {
          strategy: { mode: 'conditional', conditions: [{ query: { 'metadata.env': { $eq: 'dev' } }, then: 'cheap' }], default: 'main' },
          targets: [{ name: 'main', provider: '@anthropic-prod' }, { name: 'cheap', provider: '@anthropic-prod', override_params: { model: 'claude-haiku-5-5' } }],
        },
        weighted: { strategy: { mode: 'loadbalance' }, targets: [{ provider: '@anthropic-prod', weight: 0 }, { provider: '@anthropic-backup', weight: 1 }] },
      },
    },
    {
      PROD_KEY: prod.apiKey,
      BACKUP_KEY: backup.apiKey,
      AWS_ID: BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId,
      AWS_SECRET: BedrockEmulator.DEFAULT_CREDENTIALS.secretAccessKey,
      VERTEX_SA: JSON.stringify(vertex.serviceAccount()),
    },
  );
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([prod, backup, bedrock, vertex].map((e) => e?.close()));
});
beforeEach(() => [prod, backup, bedrock, vertex].forEach((e) => e.reset()));

async function call(config: string, init: { stream?: boolean; headers?: Record<string, string>; key?: string } = {}) {
  const key = init.key ?? (await gw.createKey({ name: 'routing', config: config.startsWith('{') ? undefined : config })).key;
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...(config.startsWith('{') ? { 'x-portkey-config': config } : {}), ...init.headers },
    body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 32, ...(init.stream ? { stream: true } : {}), messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('fallback (the seeds config, across Anthropic, Bedrock and Vertex)', () => {
  it('a 503 from Anthropic falls back to Bedrock; the client sees one clean answer', async () => {
    prod.enqueue({ kind: 'status', status: 503 });
    const r = await call('desktop-eng-prod');
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).content[0].text).toBe('Hello from the Anthropic emulator.');
    expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect([prod.requests.length, bedrock.requests.length, vertex.requests.length]).toEqual([1, 1, 0]);
  });

  it('Anthropic overloaded and Bedrock throttled: Vertex answers', async () => {
    prod.enqueue({ kind: 'status', status: 529 });
    bedrock.enqueue({ kind: 'status', status: 429, errorType: 'ThrottlingException' });
    const r = await call('desktop-eng-prod', { stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toContain('event: message_stop');
    expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[2]');
    expect([prod.requests.length, bedrock.requests.length, vertex.requests.length]).toEqual([1, 1, 1]);
  });

  it('a connection reset before headers falls back too', async () => {
    prod.enqueue({ kind: 'reset' });
    const r = await call('desktop-eng-prod');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
  });

  it('a 400 is never hopped to another provider: the upstream body reaches the client unmodified', async () => {
    const body = { type: 'error', error: { type: 'invalid_request_error', message: 'messages: roles must alternate' }, request_id: 'req_up_400' };
    prod.enqueue({ kind: 'status', status: 400, body });
    const r = await call('desktop-eng-prod');
    expect(r.status).toBe(400);
    expect(JSON.parse(r.text)).toEqual(body);
    expect([bedrock.requests.length, vertex.requests.length]).toEqual([0, 0]);
  });

  it('when every target fails, the client gets the last failure', async () => {
    prod.enqueue({ kind: 'status', status: 503 });
    bedrock.enqueue({ kind: 'status', status: 503, errorType: 'ServiceUnavailableException' });
    vertex.enqueue({ kind: 'status', status: 429 });
    const r = await call('desktop-eng-prod');
    expect(r.status).toBe(429);
    expect(JSON.parse(r.text).error.type).toBe('rate_limit_error');
    expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[2]');
  });

  it('once a stream has started, a failure ends it with an error event and nothing is retried', async () => {
    prod.enqueue({ kind: 'errorAfter', afterEvents: 3, error: { type: 'overloaded_error', message: 'Overloaded' } });
    const r = await call('desktop-eng-prod', { stream: true });
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/event: error\ndata: .*overloaded_error/);
    expect([bedrock.requests.length, vertex.requests.length]).toEqual([0, 0]);
  });

  it('on_status_codes narrows what falls back', async () => {
    prod.enqueue({ kind: 'status', status: 503 });
    const r = await call('only-429');
    expect(r.status).toBe(503);
    expect(backup.requests.length).toBe(0);
    prod.enqueue({ kind: 'status', status: 429 });
    expect((await call('only-429')).status).toBe(200);
    expect(backup.requests.length).toBe(1);
  });

  it('a target slower than its request_timeout is abandoned for the next', async () => {
    prod.enqueue({ kind: 'delay', ms: 3_000, then: { kind: 'message' } });
    const r = await call('slow-first');
    expect(r.status).toBe(200);
    expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect(backup.requests.length).toBe(1);
  });
});

describe('retries', () => {
  it('retries a 503 and says how many retries it took', async () => {
    prod.enqueue({ kind: 'status', status: 503 }, { kind: 'status', status: 503 });
    const r = await call('retrying');
    expect(r.status).toBe(200);
    expect(prod.requests.length).toBe(3);
    expect(r.headers.get('x-portkey-retry-attempt-count')).toBe('2');
  });

  it('honours retry-after', async () => {
    prod.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '1' } });
    const r = await call('retrying');
    expect(r.status).toBe(200);
    expect(prod.requests.length).toBe(2);
  });

  it('does not wait for a retry-after beyond its cap: the 429 goes back with its retry-after', async () => {
    prod.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '3600' } });
    const r = await call('retrying');
    expect(r.status).toBe(429);
    expect(r.headers.get('retry-after')).toBe('3600');
    expect(prod.requests.length).toBe(1);
  });
});

describe('conditional and load balancing', () => {
  it('sends env=dev traffic to the cheaper model and the rest to the default', async () => {
    await call('cheap-dev', { headers: { 'x-portkey-metadata': '{"env":"dev","user":"a@b.c"}' } });
    await call('cheap-dev', { headers: { 'x-portkey-metadata': '{"env":"prod"}' } });
    expect(prod.requests.map((r) => (r.json as { model: string }).model)).toEqual(['claude-haiku-5-5', 'claude-opus-5-5']);
    expect(prod.requests[0]!.body.toString()).toContain('"messages":[{"role":"user","content":"hi"}]');
  });

  it('never picks a target of weight 0', async () => {
    for (let i = 0; i < 8; i++) expect((await call('weighted')).status).toBe(200);
    expect([prod.requests.length, backup.requests.length]).toEqual([0, 8]);
  });
});

describe('where configs come from', () => {
  it('the seeds snippets without a fallback run on the default provider', async () => {
    expect((await call('seed-forward')).status).toBe(200);
    expect((await call('seed-cache')).status).toBe(200);
    expect(prod.requests.length).toBe(2);
  });

  it('a request names a config by id in x-portkey-config', async () => {
    const key = (await gw.createKey({ name: 'plain' })).key;
    prod.enqueue({ kind: 'status', status: 503 });
    const r = await call('', { key, headers: { 'x-portkey-config': 'desktop-eng-prod' } });
    expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
  });

  it('inline configs need a key that allows them, and are validated field by field', async () => {
    const inline = JSON.stringify({ provider: '@anthropic-backup' });
    expect((await call(inline, { key: (await gw.createKey({ name: 'no-inline' })).key })).status).toBe(403);
    const allowed = (await gw.createKey({ name: 'inline', allow_inline_config: true })).key;
    expect((await call(inline, { key: allowed })).status).toBe(200);
    expect(backup.requests.length).toBe(1);
    const bad = await call(JSON.stringify({ strategy: { mode: 'fallback' }, targets: [{ provider: '@nowhere' }] }), { key: allowed });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.text).error.message).toMatch(/config\.targets\[0\]\.provider: @nowhere is not a provider of this gateway/);
    const typo = await call(JSON.stringify({ strategy: { mode: 'fallbak' }, targets: [{ provider: '@anthropic-prod' }] }), { key: allowed });
    expect(JSON.parse(typo.text).error.message).toMatch(/config\.strategy\.mode/);
  });

  it('every response carries the trace id (echoed, or the request id)', async () => {
    const r = await call('seed-forward', { headers: { 'x-portkey-trace-id': 'my-project-session' } });
    expect(r.headers.get('x-portkey-trace-id')).toBe('my-project-session');
    const r2 = await call('seed-forward');
    expect(r2.headers.get('x-portkey-trace-id')).toMatch(/^req_gh/);
  });

  it('works for the SDK with the Portkey headers as default headers', async () => {
    const key = (await gw.createKey({ name: 'sdk' })).key;
    prod.enqueue({ kind: 'status', status: 503 });
    const sdk = new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0, defaultHeaders: { 'x-portkey-config': 'desktop-eng-prod', 'x-portkey-metadata': '{"team":"eng"}' } });
    const msg = await sdk.messages.create({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text' });
    expect(bedrock.requests.length).toBe(1);
  });
});

describe('circuit breaking', () => {
  it('skips a provider that keeps failing, and shows its open circuit to admins', async () => {
    const own = await startGateway(
      {
        providers: {
          flaky: { kind: 'anthropic', api_key: 'env:PROD_KEY', base_url: prod.url },
          steady: { kind: 'anthropic', api_key: 'env:BACKUP_KEY', base_url: backup.url },
        },
        routing: { circuit_breaker: { failure_threshold: 3, cooldown_ms: 60_000 } },
        configs: { breaker: { strategy: { mode: 'fallback' }, targets: [{ provider: '@flaky' }, { provider: '@steady' }] } },
      },
      { PROD_KEY: prod.apiKey, BACKUP_KEY: backup.apiKey },
    );
    try {
      const key = (await own.createKey({ name: 'cb', config: 'breaker' })).key;
      const send = () =>
        fetch(`${own.url}/v1/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
          body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
        });
      // Three failures in a row open the flaky provider's circuit (threshold 3).
      prod.enqueue({ kind: 'status', status: 503 }, { kind: 'status', status: 503 }, { kind: 'status', status: 503 });
      for (let i = 0; i < 3; i++) expect((await send()).headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
      expect(prod.requests.length).toBe(3);
      // Now it is not even tried: the request goes straight to the steady one.
      const r = await send();
      expect(r.status).toBe(200);
      expect(r.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
      expect(prod.requests.length).toBe(3);
      expect(backup.requests.length).toBe(4);
      const circuits = await own.admin<{ data: Array<{ slug: string; state: string; consecutiveFailures: number }> }>('GET', '/api/admin/circuits');
      expect(circuits.body.data).toContainEqual(expect.objectContaining({ slug: 'flaky', state: 'open', consecutiveFailures: 3 }));
    } finally {
      await own.close();
    }
  });
});

describe('cache', () => {
  const body = (n: number) => JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 32, stream: true, messages: [{ role: 'user', content: `cache me ${n}` }] });
  const send = (key: string, payload: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers }, body: payload });

  it('replays a stream from the cache, byte for byte, without calling the provider; force-refresh goes upstream again', async () => {
    const key = (await gw.createKey({ name: 'cache', config: 'seed-cache' })).key;
    const first = await send(key, body(1));
    const firstText = await first.text();
    expect(first.headers.get('x-portkey-cache-status')).toBe('MISS');
    // Same request, fields in another order and other spacing: the same answer.
    const again = await send(key, `{ "stream": true,\n "messages": [{"role":"user","content":"cache me 1"}], "max_tokens":32, "model":"claude-opus-5-5" }`);
    expect(again.headers.get('x-portkey-cache-status')).toBe('HIT');
    expect(again.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(await again.text()).toBe(firstText);
    expect(prod.requests.length).toBe(1);
    const refreshed = await send(key, body(1), { 'x-portkey-cache-force-refresh': 'true' });
    expect(refreshed.headers.get('x-portkey-cache-status')).toBe('REFRESH');
    await refreshed.text();
    expect(prod.requests.length).toBe(2);
  });

  it('never caches errors or broken streams', async () => {
    const key = (await gw.createKey({ name: 'cache-err', config: 'seed-cache' })).key;
    prod.enqueue({ kind: 'status', status: 500 });
    expect((await send(key, body(2))).status).toBe(500);
    prod.enqueue({ kind: 'errorAfter', afterEvents: 2, error: { type: 'overloaded_error', message: 'Overloaded' } });
    await (await send(key, body(2))).text();
    const third = await send(key, body(2));
    expect(third.headers.get('x-portkey-cache-status')).toBe('MISS');
    expect(await third.text()).toContain('event: message_stop');
    expect(prod.requests.length).toBe(3);
  });

  it('is not shared between workspaces', async () => {
    const other = await startGateway(
      { providers: { 'anthropic-prod': { kind: 'anthropic', api_key: 'env:PROD_KEY', base_url: prod.url } }, workspaces: { a: {}, b: {} }, configs: { c: { cache: { mode: 'simple', max_age: 60 } } } },
      { PROD_KEY: prod.apiKey },
    );
    try {
      const ka = (await other.createKey({ name: 'a', workspace: 'a', config: 'c' })).key;
      const kb = (await other.createKey({ name: 'b', workspace: 'b', config: 'c' })).key;
      for (const k of [ka, kb, ka]) {
        const r = await fetch(`${other.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': k }, body: body(3) });
        await r.text();
      }
      expect(prod.requests.length).toBe(2);
    } finally {
      await other.close();
    }
  });
});
