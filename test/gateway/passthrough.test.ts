// Real SDK clients (1.x and 0.x) through a real gateway to the Anthropic emulator: what a
// developer's code sees must be what it would see against Anthropic directly.
import Anthropic from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let key: string;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url), { TEST_ANTHROPIC_KEY: emu.apiKey });
  key = (await gw.createKey({ name: 'passthrough' })).key;
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

const sdk1 = () => new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0 });
// The 0.x client has the same surface for everything used here; typing it as the 1.x class keeps
// one suite for both (a union of the two is not callable in TypeScript).
const sdk0 = () => new Anthropic0({ baseURL: gw.url, apiKey: key, maxRetries: 0 }) as unknown as Anthropic;

describe.each([
  // 1.x authenticates with `authorization: Bearer`, 0.x with `x-api-key`; the gateway takes both.
  ['@anthropic-ai/sdk 1.x', sdk1, '2026-10-21', Anthropic.RateLimitError],
  ['@anthropic-ai/sdk 0.x', sdk0, '2023-06-01', Anthropic0.RateLimitError],
] as const)('%s through the gateway', (_name, client, version, RateLimitError) => {
  it('non-streaming create returns the upstream message, with the provider key swapped in', async () => {
    const msg = await client().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'say hi' }] });
    expect(msg.content).toEqual([{ type: 'text', text: 'Hello from the Anthropic emulator.' }]);
    expect(msg.model).toBe('claude-sonnet-5-5');
    const seen = emu.requests[0]!;
    expect(seen.headers['x-api-key']).toBe(emu.apiKey);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['anthropic-version']).toBe(version);
    expect(JSON.stringify(seen.headers)).not.toContain(key);
  });

  it('streams text and thinking with signature; finalMessage is complete', async () => {
    const stream = client().messages.stream({
      model: 'claude-opus-5-5',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [{ role: 'user', content: 'think first' }],
    });
    const final = await stream.finalMessage();
    expect(final.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const thinking = final.content[0]!;
    expect(thinking.type === 'thinking' && thinking.signature.length).toBeGreaterThan(0);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it('streams a tool_use whose input is assembled from input_json_delta pieces', async () => {
    const final = await client()
      .messages.stream({
        model: 'claude-sonnet-5-5',
        max_tokens: 256,
        tools: [{ name: 'get_weather', description: 'w', input_schema: { type: 'object', properties: { city: { type: 'string' } } } }],
        messages: [{ role: 'user', content: 'EMU_TOOL get_weather {"city":"Paris","days":[1,2]}' }],
      })
      .finalMessage();
    expect(final.stop_reason).toBe('tool_use');
    const tool = final.content.find((b) => b.type === 'tool_use');
    expect(tool && tool.type === 'tool_use' && tool.input).toEqual({ city: 'Paris', days: [1, 2] });
  });

  it('count_tokens answers through the provider', async () => {
    const r = await client().messages.countTokens({ model: 'claude-sonnet-5-5', messages: [{ role: 'user', content: 'count me please' }] });
    expect(r.input_tokens).toBeGreaterThan(0);
    expect(emu.requests[0]!.path).toBe('/v1/messages/count_tokens');
  });

  it('lists models with Anthropic paging', async () => {
    const ids: string[] = [];
    for await (const m of client().models.list({ limit: 3 })) ids.push(m.id);
    expect(ids.length).toBeGreaterThan(6);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain('claude-opus-5-5');
    const one = await client().models.retrieve('claude-sonnet-4-5');
    expect(one.id).toBe('claude-sonnet-4-5-20250929');
  });

  it('relays upstream errors with their status, type, message and request id', async () => {
    emu.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '7' }, body: { type: 'error', error: { type: 'rate_limit_error', message: 'Slow down, upstream' }, request_id: 'req_up_429' } });
    const err = await client()
      .messages.create({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitError);
    const e = err as InstanceType<typeof Anthropic.RateLimitError>;
    expect(e.status).toBe(429);
    expect(e.headers?.get('retry-after')).toBe('7');
    expect(JSON.stringify(e.error)).toContain('Slow down, upstream');
  });

  it('an error event after 200 reaches the client as a thrown overloaded error', async () => {
    emu.enqueue({ kind: 'errorAfter', afterEvents: 3, error: { type: 'overloaded_error', message: 'Overloaded' } });
    const stream = await client().messages.create({ model: 'claude-sonnet-5-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'x' }] });
    const types: string[] = [];
    const err = await (async () => {
      for await (const ev of stream) types.push(ev.type);
    })().catch((e: unknown) => e);
    expect(types[0]).toBe('message_start');
    expect(String(err)).toMatch(/overloaded/i);
  });
});

describe('byte-level pass-through', () => {
  const post = (body: string, headers: Record<string, string> = {}) =>
    fetch(`${gw.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: `Bearer ${key}`, ...headers },
      body,
    });

  it('SSE bytes through the gateway equal the bytes the emulator sent, pings included', async () => {
    const res = await post(JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    const got = Buffer.from(await res.arrayBuffer());
    await emu.requests[0]!.done;
    expect(got.equals(emu.requests[0]!.responseBytes)).toBe(true);
    expect(got.toString()).toContain('event: ping');
  });

  it('forwards the body bytes untouched and every end-to-end header, but no credentials or x-portkey-*', async () => {
    // Odd spacing, key order and unknown fields must survive: the gateway never re-serialises.
    const body = '{ "model":"claude-opus-5-5",  "max_tokens": 16,"messages":[{"role":"user","content":"hi"},{"role":"system","content":[{"type":"text","text":"env","cache_control":{"type":"ephemeral"}}]}],"safeguards":{"x":1}, "context_management":{"edits":[]} }';
    const res = await post(body, {
      'anthropic-beta': 'interleaved-thinking-2025-05-14,some-future-beta-2027-01-01',
      'x-claude-code-session-id': 'sess-123',
      'x-app': 'cli',
      'x-custom-trace': 't1',
      'x-portkey-metadata': '{"team":"eng"}',
      'x-portkey-provider': '@anthropic',
      'user-agent': 'claude-cli/2.1.330 (external, sdk-cli)',
    });
    expect(res.status).toBe(200);
    const seen = emu.requests[0]!;
    expect(seen.body.toString()).toBe(body);
    expect(seen.url).toBe('/v1/messages?beta=true');
    expect(seen.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14,some-future-beta-2027-01-01');
    expect(seen.headers['x-claude-code-session-id']).toBe('sess-123');
    expect(seen.headers['x-app']).toBe('cli');
    expect(seen.headers['x-custom-trace']).toBe('t1');
    expect(seen.headers['user-agent']).toBe('claude-cli/2.1.330 (external, sdk-cli)');
    expect(Object.keys(seen.headers).filter((h) => h.startsWith('x-portkey-'))).toEqual([]);
    expect(seen.headers.authorization).toBeUndefined();
    expect(seen.headers['x-api-key']).toBe(emu.apiKey);
  });

  it('relays request-id, rate-limit and retry headers from the provider', async () => {
    emu.enqueue({ kind: 'status', status: 529, headers: { 'x-should-retry': 'true', 'retry-after': '3' } });
    const res = await post(JSON.stringify({ model: 'm', max_tokens: 1, messages: [] }));
    expect(res.status).toBe(529);
    expect(res.headers.get('request-id')).toMatch(/^req_/);
    expect(res.headers.get('retry-after')).toBe('3');
    expect(res.headers.get('x-should-retry')).toBe('true');
    expect(res.headers.get('anthropic-ratelimit-requests-limit')).not.toBeNull();
    const body = (await res.json()) as { error: { type: string } };
    expect(body.error.type).toBe('overloaded_error');
  });

  it('carries a 500 KB Claude-Code-sized body through byte for byte', async () => {
    const history = Array.from({ length: 200 }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `turn ${i} ` + 'x'.repeat(2_500) }] }));
    const body = JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 64, stream: true, messages: [...history, { role: 'user', content: 'last' }] });
    expect(body.length).toBeGreaterThan(500_000);
    const res = await post(body);
    expect(res.status).toBe(200);
    expect((await res.text()).endsWith('event: message_stop\ndata: {"type":"message_stop"}\n\n')).toBe(true);
    expect(emu.requests[0]!.body.equals(Buffer.from(body))).toBe(true);
  });

  it('a client that goes away mid-stream aborts the provider request', async () => {
    emu.enqueue({ kind: 'stall', afterEvents: 2 });
    const res = await post(JSON.stringify({ model: 'm', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'hi' }] }));
    const reader = res.body!.getReader();
    await reader.read();
    await reader.cancel();
    await emu.requests[0]!.done;
    expect(emu.requests[0]!.aborted).toBe(true);
  });

  it('a client that goes away before the answer starts aborts the provider request too', async () => {
    emu.enqueue({ kind: 'delay', ms: 5_000, then: { kind: 'message' } });
    const ac = new AbortController();
    const pending = fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      signal: ac.signal,
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
      body: JSON.stringify({ model: 'm', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    }).catch(() => 'aborted');
    await emu.waitForRequests(1);
    ac.abort();
    expect(await pending).toBe('aborted');
    await emu.requests[0]!.done;
    expect(emu.requests[0]!.aborted).toBe(true);
  });
});
