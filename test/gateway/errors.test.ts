// Every error the gateway makes itself: Anthropic's envelope, a request-id, the right status and
// type, and a message that tells a person what to do.
import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

interface Envelope {
  type: string;
  error: { type: string; message: string; details?: { error_code?: string } };
  request_id: string;
}

let emu: AnthropicEmulator;
let gw: TestGateway;
let key: string;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { server: { body_limit_mb: 1 } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
  key = (await gw.createKey({ name: 'errors' })).key;
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

const MSG = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });

async function call(url: string, init: RequestInit & { headers?: Record<string, string> } = {}) {
  const res = await fetch(url, {
    method: 'POST',
    body: MSG,
    ...init,
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...init.headers },
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: JSON.parse(text) as Envelope };
}

function expectEnvelope(r: { status: number; headers: Headers; body: Envelope }, status: number, type: string, message: RegExp) {
  expect(r.status).toBe(status);
  expect(r.body.type).toBe('error');
  expect(r.body.error.type).toBe(type);
  expect(r.body.error.message).toMatch(message);
  expect(r.body.request_id).toMatch(/^req_/);
  expect(r.headers.get('request-id')).toBe(r.body.request_id);
}

describe('key errors (401, and the message says which case)', () => {
  it('no key at all', async () => {
    const r = await call(`${gw.url}/v1/messages`);
    expectEnvelope(r, 401, 'authentication_error', /No API key was sent.*Authorization: Bearer/);
    expect(r.headers.get('x-should-retry')).toBe('false');
    expect(emu.requests).toHaveLength(0);
  });

  it('an unknown key, showing only its prefix', async () => {
    const bogus = 'ghk_thisKeyWasNeverIssuedByThisGateway000000000';
    const r = await call(`${gw.url}/v1/messages`, { headers: { 'x-api-key': bogus } });
    expectEnvelope(r, 401, 'authentication_error', /ghk_thisKe… is not known to this gateway/);
    expect(r.text).not.toContain(bogus);
  });

  it('an expired key', async () => {
    const k = await gw.createKey({ name: 'old', expires_at: '2020-01-01T00:00:00Z' });
    const r = await call(`${gw.url}/v1/messages`, { headers: { authorization: `Bearer ${k.key}` } });
    expectEnvelope(r, 401, 'authentication_error', /expired at 2020-01-01T00:00:00/);
  });

  it('a revoked key', async () => {
    const k = await gw.createKey({ name: 'gone' });
    await gw.admin('POST', `/api/admin/keys/${k.id}/revoke`, {});
    const r = await call(`${gw.url}/v1/messages`, { headers: { 'x-portkey-api-key': k.key } });
    expectEnvelope(r, 401, 'authentication_error', /was revoked at/);
  });

  it('a rotated key after its grace period, while the new one works', async () => {
    const k = await gw.createKey({ name: 'rot' });
    const rotated = await gw.admin<{ key: string }>('POST', `/api/admin/keys/${k.id}/rotate`, { grace: '0s' });
    const old = await call(`${gw.url}/v1/messages`, { headers: { 'x-api-key': k.key } });
    expectEnvelope(old, 401, 'authentication_error', /replaced by a rotated key/);
    const fresh = await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': rotated.body.key } });
    expect(fresh.status).toBe(200);
  });

  it('the admin key cannot call models', async () => {
    const r = await call(`${gw.url}/v1/messages`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expectEnvelope(r, 403, 'permission_error', /gatehouse keys create/);
  });
});

describe('request errors', () => {
  const auth = () => ({ 'x-api-key': key });

  it('an unknown path is a 404 with a hint for /v1/v1', async () => {
    const r = await call(`${gw.url}/v1/v1/messages`, { headers: auth() });
    expectEnvelope(r, 404, 'not_found_error', /without \/v1/);
  });

  it('a trailing slash gets its own hint', async () => {
    const r = await call(`${gw.url}/v1/messages/`, { headers: auth() });
    expectEnvelope(r, 404, 'not_found_error', /Remove the trailing slash: \/v1\/messages\./);
  });

  it('malformed JSON is a 400 that says where', async () => {
    const r = await call(`${gw.url}/v1/messages`, { headers: auth(), body: '{"model": "x",\n "max_tokens": }' });
    expectEnvelope(r, 400, 'invalid_request_error', /not valid JSON: a value is expected at line 2, column 16/);
    expect(emu.requests).toHaveLength(0);
  });

  it('a body that is JSON but not an object is a 400', async () => {
    const r = await call(`${gw.url}/v1/messages`, { headers: auth(), body: '[1,2]' });
    expectEnvelope(r, 400, 'invalid_request_error', /must be a JSON object/);
  });

  it('a body over the limit is a 413 naming the limit', async () => {
    const big = JSON.stringify({ model: 'm', max_tokens: 1, messages: [{ role: 'user', content: 'x'.repeat(1_200_000) }] });
    const r = await call(`${gw.url}/v1/messages`, { headers: auth(), body: big });
    expectEnvelope(r, 413, 'request_too_large', /limit of 1 MB/);
    expect(emu.requests).toHaveLength(0);
  });

  it('an unknown provider is a 400 listing the known ones', async () => {
    const r = await call(`${gw.url}/v1/messages`, { headers: { ...auth(), 'x-portkey-provider': '@nope' } });
    expectEnvelope(r, 400, 'invalid_request_error', /@nope is not configured.*@anthropic/);
  });

  it('an unknown model id on /v1/models/{id} is a 404', async () => {
    const r = await call(`${gw.url}/v1/models/claude-imaginary-9`, { method: 'GET', body: null, headers: auth() });
    expectEnvelope(r, 404, 'not_found_error', /claude-imaginary-9 is not available/);
  });

  it('a bad models limit is a 400', async () => {
    const r = await call(`${gw.url}/v1/models?limit=5000`, { method: 'GET', body: null, headers: auth() });
    expectEnvelope(r, 400, 'invalid_request_error', /limit must be an integer from 1 to 1000/);
  });
});

describe('provider errors', () => {
  let closedPort: number;
  let blackhole: Server;
  let other: TestGateway;
  const held = new Set<import('node:net').Socket>();

  beforeAll(async () => {
    // A port with nothing listening, and a server that accepts and never answers.
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    closedPort = (probe.address() as { port: number }).port;
    await new Promise<void>((r) => probe.close(() => r()));
    blackhole = createServer((s) => {
      s.on('error', () => undefined);
      held.add(s);
    });
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', r));
    const holePort = (blackhole.address() as { port: number }).port;
    other = await startGateway(
      {
        server: { timeouts: { connect_ms: 2_000, first_byte_ms: 500, idle_ms: 400 } },
        providers: {
          down: { kind: 'anthropic', api_key: 'env:K', base_url: `http://127.0.0.1:${closedPort}` },
          hole: { kind: 'anthropic', api_key: 'env:K', base_url: `http://127.0.0.1:${holePort}` },
          emu: { kind: 'anthropic', api_key: 'env:K', base_url: emu.url },
          nocreds: { kind: 'anthropic', api_key: 'env:GATEHOUSE_TEST_UNSET_VARIABLE', base_url: emu.url },
        },
      },
      { K: emu.apiKey },
    );
  });
  afterAll(async () => {
    await other?.close();
    for (const s of held) s.destroy();
    await new Promise<void>((r) => blackhole.close(() => r()));
  });

  const via = async (provider: string, body = MSG) => {
    const k = (await other.createKey({ name: provider })).key;
    return call(`${other.url}/v1/messages`, { headers: { 'x-api-key': k, 'x-portkey-provider': `@${provider}` }, body });
  };

  it('an unreachable provider is a 502 naming it and the reason, never "fetch failed"', async () => {
    const r = await via('down');
    expectEnvelope(r, 502, 'api_error', new RegExp(`Provider @down \\(http://127.0.0.1:${closedPort}\\) could not be reached: connection refused`));
    expect(r.text).not.toMatch(/fetch failed/);
  });

  it('a provider that never answers is a 504 naming the timeout setting', async () => {
    const r = await via('hole');
    expectEnvelope(r, 504, 'timeout_error', /Provider @hole timed out: no response within 0.5 s \(server.timeouts.first_byte_ms\)/);
  });

  it('a provider without credentials is an error naming the variable to set', async () => {
    const r = await via('nocreds');
    expectEnvelope(r, 500, 'api_error', /Provider @nocreds has no credentials: set the environment variable GATEHOUSE_TEST_UNSET_VARIABLE/);
    expect(r.headers.get('x-should-retry')).toBe('false');
  });

  it('a stream that goes silent ends with an SSE error event naming the idle timeout', async () => {
    emu.enqueue({ kind: 'stall', afterEvents: 3 });
    const r = await fetch(`${other.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': (await other.createKey({ name: 's' })).key, 'x-portkey-provider': '@emu' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text.startsWith('event: message_start')).toBe(true);
    expect(text).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"timeout_error","message":"Provider @emu timed out: the response went silent for 0.4 s/);
  });

  it('a healthy stream slower than the idle timeout in total is never cut', async () => {
    const events = [];
    // 8 pauses of 150 ms: 1.2 s in total, three times the 0.4 s idle timeout, never silent for long.
    for (let i = 0; i < 8; i++) events.push({ delayMs: 150 }, { event: 'ping', data: { type: 'ping' } });
    emu.enqueue({
      kind: 'sse',
      events: [
        { event: 'message_start', data: { type: 'message_start', message: { id: 'msg_1', type: 'message', role: 'assistant', content: [], model: 'm', stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } } },
        ...events,
        { event: 'message_delta', data: { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 1 } } },
        { event: 'message_stop', data: { type: 'message_stop' } },
      ],
    });
    const r = await fetch(`${other.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': (await other.createKey({ name: 'h' })).key, 'x-portkey-provider': '@emu' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await r.text();
    expect(text).toContain('event: message_stop');
    expect(text).not.toContain('event: error');
  });

  it('a provider connection reset mid-stream ends the stream with an SSE error event', async () => {
    emu.enqueue({ kind: 'reset', afterEvents: 3 });
    const r = await fetch(`${other.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': (await other.createKey({ name: 'r' })).key, 'x-portkey-provider': '@emu' },
      body: JSON.stringify({ model: 'm', max_tokens: 8, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await r.text();
    expect(text).toMatch(/event: error\ndata: .*"type":"api_error".*The stream from provider @emu broke off/);
  });
});
