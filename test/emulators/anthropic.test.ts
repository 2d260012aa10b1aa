// Proves the emulator is faithful by driving it with the real SDKs: if these clients accept it,
// gateway tests built on it exercise what production clients will see.
import Anthropic, {
  APIConnectionError, APIConnectionTimeoutError, APIError, AuthenticationError, BadRequestError, ContentTooLargeError,
  InternalServerError, NotFoundError, OverloadedError, PermissionDeniedError, RateLimitError,
} from '@anthropic-ai/sdk';
import Anthropic0 from 'anthropic-sdk-0';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator, EMULATOR_MODELS, type RecordedRequest } from './anthropic.js';
import { buildMessage, streamEvents } from './anthropic-sse.js';
import { caught, expectClientAborted, lastRequest, typesUntilAbort } from './test-helpers.js';

const MODEL = 'claude-opus-5-5';
const GREETING = 'Hello from the Anthropic emulator.';
const hi = [{ role: 'user' as const, content: 'say hi' }];

let emu: AnthropicEmulator;
beforeAll(async () => { emu = await AnthropicEmulator.start(); });
afterAll(async () => { await emu.close(); });
beforeEach(() => emu.reset());

const sdk1 = (opts: { apiKey?: string; timeout?: number } = {}): Anthropic =>
  new Anthropic({ baseURL: emu.url, apiKey: emu.apiKey, maxRetries: 0, ...opts });
const sdk0 = (): Anthropic0 => new Anthropic0({ baseURL: emu.url, apiKey: emu.apiKey, maxRetries: 0 });

const last = (): RecordedRequest => lastRequest(emu);

/** Parses the bytes the emulator wrote, checking A5 framing on every frame. */
function frames(rec: RecordedRequest): Array<{ event: string; data: Record<string, unknown> }> {
  const text = rec.responseBytes.toString('utf8');
  expect(text.endsWith('\n\n')).toBe(true);
  return text.slice(0, -2).split('\n\n').map((f) => {
    const m = /^event: (\w+)\ndata: (.+)$/.exec(f);
    if (!m?.[1] || !m[2]) throw new Error(`bad SSE frame: ${JSON.stringify(f)}`);
    const data = JSON.parse(m[2]) as Record<string, unknown>;
    expect(data.type).toBe(m[1]);
    return { event: m[1], data };
  });
}

describe('AnthropicEmulator with @anthropic-ai/sdk 1.x and 0.x', () => {
  it('answers a non-streaming create with the A4 message and records the exact request', async () => {
    const { data: msg, response } = await sdk1().messages.create({ model: MODEL, max_tokens: 64, messages: hi }).withResponse();
    expect(msg.id).toMatch(/^msg_emu_/);
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: MODEL, stop_reason: 'end_turn', stop_sequence: null });
    expect(msg.content).toEqual([{ type: 'text', text: GREETING }]);
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.cache_read_input_tokens).toBe(0);
    expect(response.headers.get('request-id')).toMatch(/^req_/);
    expect(response.headers.get('anthropic-ratelimit-requests-remaining')).toMatch(/^\d+$/);

    const rec = last();
    expect(rec).toMatchObject({ method: 'POST', path: '/v1/messages', aborted: false });
    expect(rec.json).toEqual({ model: MODEL, max_tokens: 64, messages: hi });
    expect(rec.body.length).toBe(Number(rec.headers['content-length']));
    await rec.done;
    expect(JSON.parse(rec.responseBytes.toString('utf8'))).toEqual(msg);
  });

  it('records the credential and version each SDK line sends', async () => {
    await sdk0().messages.create({ model: MODEL, max_tokens: 16, messages: hi });
    await sdk1().messages.create({ model: MODEL, max_tokens: 16, messages: hi });
    const [old, current] = emu.requests;
    expect(old?.headers).toMatchObject({ 'x-api-key': emu.apiKey, 'anthropic-version': '2023-06-01' });
    expect(old?.headers.authorization).toBeUndefined();
    expect(current?.headers).toMatchObject({ authorization: `Bearer ${emu.apiKey}`, 'anthropic-version': '2026-10-21' });
    expect(current?.headers['x-api-key']).toBeUndefined();
  });

  it('streams raw events in A5 order, with a ping after the first block start', async () => {
    const { data: stream, response } = await sdk1()
      .messages.create({ model: MODEL, max_tokens: 64, messages: hi, stream: true }).withResponse();
    const seen: string[] = [];
    let text = '';
    for await (const ev of stream) {
      seen.push(ev.type);
      if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
      if (ev.type === 'message_delta') expect(ev.usage.output_tokens).toBeGreaterThan(0);
    }
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    expect(text).toBe(GREETING);
    expect(seen).toEqual(['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta',
      'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop']);
    const wire = frames(last()).map((f) => f.event);
    expect(wire.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    const start = frames(last())[0]?.data.message as { usage: Record<string, number> };
    expect(Object.keys(start.usage)).toEqual(expect.arrayContaining(['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens']));
  });

  it('.stream().finalMessage() assembles a signed thinking block and the text', async () => {
    const msg = await sdk1().messages.stream({
      model: MODEL, max_tokens: 2048, messages: hi, thinking: { type: 'enabled', budget_tokens: 1024 },
    }).finalMessage();
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const [thinking, text] = msg.content;
    expect(thinking?.type === 'thinking' && thinking.thinking.length > 0 && thinking.signature.length > 0).toBe(true);
    expect(text?.type === 'text' && text.text).toBe(GREETING);
    expect(last().headers['x-stainless-helper-method']).toBe('stream');
  });

  it('.stream().finalMessage() parses tool_use input split across input_json_delta pieces', async () => {
    const input = { city: 'Paris "centre"', tags: ['a', 'ü\n'], nested: { n: 1, empty: {} } };
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input }] });
    const msg = await sdk0().messages.stream({ model: MODEL, max_tokens: 64, messages: hi }).finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content[1]).toEqual({ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input });
    const pieces = frames(last()).flatMap((f) => {
      const delta = f.data.delta as { type?: string; partial_json?: string } | undefined;
      return delta?.type === 'input_json_delta' ? [delta.partial_json] : [];
    });
    expect(pieces[0]).toBe('');
    expect(pieces.length).toBeGreaterThan(2);
  });

  it('runs a tool round trip by default: EMU_TOOL gives tool_use, the tool_result comes back as text', async () => {
    const client = sdk1();
    const ask = { role: 'user' as const, content: 'EMU_TOOL get_weather {"city":"Oslo"}' };
    const first = await client.messages.create({ model: MODEL, max_tokens: 64, messages: [ask] });
    const call = first.content[0];
    if (call?.type !== 'tool_use') throw new Error(`expected tool_use, got ${call?.type}`);
    expect(first.stop_reason).toBe('tool_use');
    expect(call).toMatchObject({ name: 'get_weather', input: { city: 'Oslo' } });
    const second = await client.messages.create({
      model: MODEL, max_tokens: 64,
      messages: [ask, { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: [{ type: 'text', text: '-3C' }] }] }],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'tool result: -3C' }]);
    expect(second.stop_reason).toBe('end_turn');
  });

  it('countTokens agrees with the input_tokens a create reports', async () => {
    const counted = await sdk1().messages.countTokens({ model: MODEL, messages: hi });
    const created = await sdk0().messages.create({ model: MODEL, max_tokens: 16, messages: hi });
    expect(counted.input_tokens).toBeGreaterThan(0);
    expect(created.usage.input_tokens).toBe(counted.input_tokens);
    expect(emu.requests[0]?.path).toBe('/v1/messages/count_tokens');
  });

  it('lists models newest first and pages with limit/after_id/before_id', async () => {
    const ids: string[] = [];
    for await (const m of sdk1().models.list({ limit: 2 })) ids.push(m.id);
    expect(ids).toEqual(EMULATOR_MODELS.map((m) => m.id));
    expect(emu.requests.map((r) => r.url)).toEqual([
      '/v1/models?limit=2', '/v1/models?limit=2&after_id=claude-sonnet-5-5', '/v1/models?limit=2&after_id=claude-opus-5-5',
    ]);
    const back = await sdk0().models.list({ before_id: 'claude-opus-5', limit: 2 });
    expect(back.data.map((m) => m.id)).toEqual(['claude-fable-5-1', 'claude-opus-5-5']);
    expect(back.has_more).toBe(true);
    expect(await sdk1().models.retrieve('claude-opus-5')).toMatchObject({ type: 'model', display_name: 'Claude Opus 5' });
    expect(await caught(sdk1().models.retrieve('claude-nope'))).toBeInstanceOf(NotFoundError);
  });

  it.each([
    [400, BadRequestError, 'invalid_request_error'], [401, AuthenticationError, 'authentication_error'],
    [403, PermissionDeniedError, 'permission_error'], [404, NotFoundError, 'not_found_error'],
    [413, ContentTooLargeError, 'request_too_large'], [500, InternalServerError, 'api_error'],
    [529, OverloadedError, 'overloaded_error'],
  ] as const)('status %i maps to the SDK error class with the Anthropic envelope', async (status, cls, type) => {
    emu.enqueue({ kind: 'status', status });
    const err = await caught(sdk1().messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    expect(err).toBeInstanceOf(cls);
    expect(err).toMatchObject({ status, type, requestID: expect.stringMatching(/^req_/) as unknown });
  });

  it('429 surfaces retry-after to the SDK; 0.x sees 529 as an overloaded InternalServerError', async () => {
    emu.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '7' } }, { kind: 'status', status: 529 });
    const limited = await caught(sdk1().messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get('retry-after')).toBe('7');
    const overloaded = await caught(sdk0().messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    expect(overloaded).toBeInstanceOf(Anthropic0.InternalServerError);
    expect(overloaded).toMatchObject({ status: 529, error: { type: 'error', error: { type: 'overloaded_error' } } });
  });

  it('errorAfter makes both SDKs throw mid-stream with the overloaded type, after the first text', async () => {
    const errorAfter = { kind: 'errorAfter', afterEvents: 4, error: { type: 'overloaded_error', message: 'Overloaded' } } as const;
    emu.enqueue(errorAfter, errorAfter);
    let text = '';
    const err = await caught((async () => {
      const stream = await sdk1().messages.create({ model: MODEL, max_tokens: 64, messages: hi, stream: true });
      for await (const ev of stream) if (ev.type === 'content_block_delta' && ev.delta.type === 'text_delta') text += ev.delta.text;
    })());
    expect(text).toBe(GREETING.slice(0, 12));
    expect(err).toBeInstanceOf(APIError);
    expect(err).toMatchObject({ type: 'overloaded_error', status: undefined });
    const err0 = await caught(sdk0().messages.stream({ model: MODEL, max_tokens: 64, messages: hi }).finalMessage());
    expect(err0).toMatchObject({ error: { error: { type: 'overloaded_error', message: 'Overloaded' } } });
    expect(frames(last()).map((f) => f.event).slice(-1)).toEqual(['error']);
  });

  it('reset before headers is an APIConnectionError; reset mid-stream breaks iteration', async () => {
    emu.enqueue({ kind: 'reset' }, { kind: 'reset', afterEvents: 4 });
    expect(await caught(sdk1().messages.create({ model: MODEL, max_tokens: 16, messages: hi }))).toBeInstanceOf(APIConnectionError);
    const types: string[] = [];
    const err = await caught((async () => {
      const stream = await sdk0().messages.create({ model: MODEL, max_tokens: 16, messages: hi, stream: true });
      for await (const ev of stream) types.push(ev.type);
    })());
    // The SDK does not wrap a mid-body failure: the user sees fetch's own error.
    expect(err).toMatchObject({ name: 'TypeError', message: 'terminated' });
    expect(types).toEqual(['message_start', 'content_block_start', 'content_block_delta']);
    expect(emu.requests.map((r) => r.aborted)).toEqual([false, false]);
  });

  it('a client abort during a stalled stream is recorded as aborted', async () => {
    emu.enqueue({ kind: 'stall', afterEvents: 2 });
    const ac = new AbortController();
    const stream = await sdk1().messages.create({ model: MODEL, max_tokens: 16, messages: hi, stream: true }, { signal: ac.signal });
    expect(await typesUntilAbort(stream, ac, 'content_block_start')).toEqual(['message_start', 'content_block_start']);
    await expectClientAborted(last());
  });

  it('close() ends connections that are still stalled, so test teardown never hangs', async () => {
    const other = await AnthropicEmulator.start();
    other.enqueue({ kind: 'stall', afterEvents: 0 });
    const client = new Anthropic({ baseURL: other.url, apiKey: other.apiKey, maxRetries: 0 });
    const stream = await client.messages.create({ model: MODEL, max_tokens: 16, messages: hi, stream: true });
    await other.close();
    const err = await caught((async () => { for await (const _ of stream) { /* drain */ } })());
    expect(err).toMatchObject({ message: 'terminated' });
    await other.requests[0]?.done;
  });

  it('delay outlasts the client timeout, giving APIConnectionTimeoutError', async () => {
    emu.enqueue({ kind: 'delay', ms: 2000, then: { kind: 'message' } });
    const pending = caught(sdk1({ timeout: 150 }).messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    // Recorded on arrival, before the answer, so a test can inspect what an in-flight call sent.
    await emu.waitForRequests(1);
    expect(last().json).toMatchObject({ model: MODEL });
    expect(await pending).toBeInstanceOf(APIConnectionTimeoutError);
    await expectClientAborted(last());
  });

  it('serves scripts FIFO, then falls back to the default reply', async () => {
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'one' }], model: 'claude-x', usage: { cache_read_input_tokens: 9 } },
      { kind: 'message', content: [{ type: 'redacted_thinking', data: 'opaque' }, { type: 'text', text: 'two' }] });
    const client = sdk1();
    const a = await client.messages.create({ model: MODEL, max_tokens: 16, messages: hi });
    const b = await client.messages.stream({ model: MODEL, max_tokens: 16, messages: hi }).finalMessage();
    const c = await client.messages.create({ model: MODEL, max_tokens: 16, messages: hi });
    expect(a).toMatchObject({ model: 'claude-x', content: [{ text: 'one' }], usage: { cache_read_input_tokens: 9 } });
    expect(b.content).toEqual([{ type: 'redacted_thinking', data: 'opaque' }, { type: 'text', text: 'two' }]);
    expect(c.content).toEqual([{ type: 'text', text: GREETING }]);
  });

  it('plays a fully scripted stream, including comments, CRLF framing and pauses', async () => {
    const [first, ...rest] = streamEvents(buildMessage({ model: MODEL }, [{ type: 'text', text: 'scripted' }], {}));
    if (!first) throw new Error('empty stream');
    emu.enqueue({ kind: 'sse', events: [
      { raw: ': keep-alive\n\n' },
      { raw: `event: ${first.event}\r\ndata: ${JSON.stringify(first.data)}\r\n\r\n` },
      { delayMs: 20 }, ...rest,
    ] });
    expect(await sdk1().messages.stream({ model: MODEL, max_tokens: 16, messages: hi }).finalText()).toBe('scripted');
  });

  it('guards the front door like the API: auth, anthropic-version, JSON, routes', async () => {
    emu.enqueue({ kind: 'status', status: 500 });
    const bad = await caught(sdk1({ apiKey: 'sk-wrong' }).messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    expect(bad).toBeInstanceOf(AuthenticationError);
    expect(bad).toMatchObject({ type: 'authentication_error', apiMessage: 'invalid x-api-key' });
    // The rejected request did not consume the queued script.
    // 0.x beta calls add `?beta=true`, as Claude Code does; the route must still match.
    expect(await caught(sdk0().beta.messages.create({ model: MODEL, max_tokens: 16, messages: hi }))).toBeInstanceOf(Anthropic0.InternalServerError);
    expect(last()).toMatchObject({ url: '/v1/messages?beta=true', path: '/v1/messages' });

    const post = (headers: Record<string, string>, body: string): Promise<Response> =>
      fetch(`${emu.url}/v1/messages`, { method: 'POST', headers: { 'x-api-key': emu.apiKey, ...headers }, body });
    const noVersion = await post({}, JSON.stringify({ model: MODEL, max_tokens: 1, messages: hi }));
    expect(noVersion.status).toBe(400);
    expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' }, request_id: expect.stringMatching(/^req_/) as unknown });
    const badJson = await post({ 'anthropic-version': '2023-06-01' }, '{"model":');
    expect(badJson.status).toBe(400);
    expect(last().body.toString()).toBe('{"model":');
    const missing = await fetch(`${emu.url}/v1/completions`, { method: 'POST' });
    expect([missing.status, ((await missing.json()) as { error: { type: string } }).error.type]).toEqual([404, 'not_found_error']);
    expect((await fetch(`${emu.url}/api/hello`, { method: 'HEAD' })).status).toBe(200);
  });

  it('eventDelayMs and pingEvery shape the stream a client receives', async () => {
    const slow = await AnthropicEmulator.start({ eventDelayMs: 25, pingEvery: 3 });
    try {
      const client = new Anthropic({ baseURL: slow.url, apiKey: slow.apiKey, maxRetries: 0 });
      const stream = await client.messages.create({ model: MODEL, max_tokens: 16, messages: hi, stream: true });
      const arrivals: number[] = [];
      for await (const _ of stream) arrivals.push(performance.now());
      expect((arrivals.at(-1) ?? 0) - (arrivals[0] ?? 0)).toBeGreaterThan(100);
      const rec = slow.requests[0];
      if (!rec) throw new Error('slow emulator saw no request');
      expect(frames(rec).filter((f) => f.event === 'ping').length).toBeGreaterThan(1);
    } finally {
      await slow.close();
    }
  });
});
