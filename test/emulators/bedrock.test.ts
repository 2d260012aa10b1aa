// Proves the Bedrock emulator is faithful by driving it with the official clients: if the AWS SDK and
// @anthropic-ai/bedrock-sdk accept its SigV4 checks and event-stream frames, gateway tests built on it
// exercise what real Bedrock will do.
import { request as httpRequest } from 'node:http';
import AnthropicBedrock from '@anthropic-ai/bedrock-sdk';
import { APIConnectionTimeoutError, APIError, PermissionDeniedError, RateLimitError } from '@anthropic-ai/sdk';
import {
  BedrockRuntimeClient, InvokeModelCommand, InvokeModelWithResponseStreamCommand, ModelStreamErrorException,
  ThrottlingException,
} from '@aws-sdk/client-bedrock-runtime';
import { EventStreamCodec, type Message } from '@smithy/eventstream-codec';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { SignatureV4 } from '@smithy/signature-v4';
import { Hash } from '@smithy/hash-node';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BedrockEmulator, type BedrockRecorded } from './bedrock.js';
import { caught, expectClientAborted, lastRequest } from './test-helpers.js';

const MODEL = 'us.anthropic.claude-sonnet-4-5-20250929-v1:0';
const GREETING = 'Hello from the Anthropic emulator.';
const API_KEY = 'bedrock-api-key-emulator';
const SESSION = { accessKeyId: 'ASIAEMULATOR00000002', secretAccessKey: 'sessionSecret/0000000000000000000000000', sessionToken: 'IQoJb3JpZ2luX2VjEMU//session' };
const EVENTS = ['message_start', 'content_block_start', 'content_block_delta', 'content_block_delta',
  'content_block_delta', 'content_block_stop', 'message_delta', 'message_stop'];
const hi = [{ role: 'user' as const, content: 'say hi' }];
const invokeBody = (extra: Record<string, unknown> = {}): Record<string, unknown> =>
  ({ anthropic_version: 'bedrock-2023-05-31', max_tokens: 64, messages: hi, ...extra });

let emu: BedrockEmulator;
let open: BedrockEmulator;
beforeAll(async () => {
  [emu, open] = await Promise.all([
    BedrockEmulator.start({ credentials: [BedrockEmulator.DEFAULT_CREDENTIALS, SESSION], apiKeys: [API_KEY] }),
    BedrockEmulator.start({ allowUnsigned: true }),
  ]);
});
afterAll(async () => { await Promise.all([emu.close(), open.close()]); });
beforeEach(() => { emu.reset(); open.reset(); });

const aws = (credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string } = BedrockEmulator.DEFAULT_CREDENTIALS): BedrockRuntimeClient =>
  // maxAttempts 1: the SDK retries throttles and treats InvalidSignatureException as clock skew worth retrying.
  new BedrockRuntimeClient({ region: emu.region, endpoint: emu.url, credentials, requestHandler: new NodeHttpHandler(), maxAttempts: 1 });
const invoke = (body = invokeBody()): InvokeModelCommand =>
  new InvokeModelCommand({ modelId: MODEL, body: JSON.stringify(body), contentType: 'application/json', accept: 'application/json' });
const invokeStream = (body = invokeBody()): InvokeModelWithResponseStreamCommand =>
  new InvokeModelWithResponseStreamCommand({ modelId: MODEL, body: JSON.stringify(body), contentType: 'application/json', accept: 'application/json' });
const bedrock = (opts: { apiKey?: string; timeout?: number } = {}): AnthropicBedrock => {
  const { accessKeyId, secretAccessKey } = BedrockEmulator.DEFAULT_CREDENTIALS;
  const base = { baseURL: emu.url, awsRegion: emu.region, maxRetries: 0, ...opts };
  // With an apiKey the SDK sends it as a bearer token and does not sign.
  return opts.apiKey ? new AnthropicBedrock(base) : new AnthropicBedrock({ ...base, awsAccessKey: accessKeyId, awsSecretKey: secretAccessKey });
};

const last = (e: BedrockEmulator = emu): BedrockRecorded => lastRequest(e);

/** Splits bytes into frames by their length prelude, decoding each; the codec checks both CRCs and throws on a bad one. */
function framesFrom(pending: { buf: Buffer }): Message[] {
  const codec = new EventStreamCodec(toUtf8, fromUtf8);
  const out: Message[] = [];
  while (pending.buf.length >= 4 && pending.buf.length >= pending.buf.readUInt32BE(0)) {
    const len = pending.buf.readUInt32BE(0);
    out.push(codec.decode(pending.buf.subarray(0, len)));
    pending.buf = pending.buf.subarray(len);
  }
  return out;
}
function frames(bytes: Buffer): Message[] {
  const pending = { buf: bytes };
  const out = framesFrom(pending);
  expect(pending.buf.length).toBe(0);
  return out;
}
const headerOf = (m: Message, name: string): unknown => m.headers[name]?.value;
function chunkEvents(bytes: Buffer): Array<Record<string, unknown>> {
  return frames(bytes).map((m) => {
    const payload = JSON.parse(toUtf8(m.body)) as { bytes: string; p: string };
    expect(Object.keys(payload).sort()).toEqual(['bytes', 'p']);
    return JSON.parse(Buffer.from(payload.bytes, 'base64').toString('utf8')) as Record<string, unknown>;
  });
}

async function awsStreamTypes(client: BedrockRuntimeClient, events: Array<Record<string, unknown>>): Promise<void> {
  const res = await client.send(invokeStream());
  expect(res.contentType).toBe('application/json');
  for await (const ev of res.body ?? []) {
    if (ev.chunk?.bytes) events.push(JSON.parse(toUtf8(ev.chunk.bytes)) as Record<string, unknown>);
  }
}

describe('BedrockEmulator with @aws-sdk/client-bedrock-runtime (HTTP/1.1)', () => {
  it('InvokeModel returns the Anthropic message; the percent-encoded model id is decoded and SigV4 verified', async () => {
    const res = await aws().send(invoke());
    const msg = JSON.parse(toUtf8(res.body)) as Record<string, unknown>;
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', stop_reason: 'end_turn',
      content: [{ type: 'text', text: GREETING }] });
    expect(msg.id).toMatch(/^msg_bdrk_/);
    expect(res.contentType).toBe('application/json');
    const rec = last();
    expect(rec).toMatchObject({ method: 'POST', path: '/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke', modelId: MODEL, auth: 'sigv4' });
    expect(rec.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIAEMULATOR00000001\/\d{8}\/us-east-1\/bedrock\/aws4_request, SignedHeaders=.*content-length.*host/);
    expect(rec.json).toEqual(invokeBody());
  });

  it('InvokeModelWithResponseStream yields the Anthropic events without pings, message_stop carrying invocation metrics', async () => {
    const events: Array<Record<string, unknown>> = [];
    await awsStreamTypes(aws(), events);
    expect(events.map((e) => e.type)).toEqual(EVENTS);
    const text = events.flatMap((e) => (e.type === 'content_block_delta' ? [(e.delta as { text: string }).text] : [])).join('');
    expect(text).toBe(GREETING);
    const start = events[0]?.message as { usage: { input_tokens: number } };
    expect(events.at(-1)?.['amazon-bedrock-invocationMetrics']).toEqual({
      inputTokenCount: start.usage.input_tokens, outputTokenCount: expect.any(Number) as unknown,
      invocationLatency: expect.any(Number) as unknown, firstByteLatency: expect.any(Number) as unknown,
    });
    expect(last().headers['x-amzn-bedrock-accept']).toBe('application/json');
  });

  it('a scripted exception frame makes the SDK throw the modeled exception after the chunks before it', async () => {
    emu.enqueue({ kind: 'exception', afterEvents: 3, exceptionType: 'throttlingException', message: 'Too many tokens, slow down.' },
      { kind: 'exception', afterEvents: 0, exceptionType: 'modelStreamErrorException', message: 'boom' });
    const events: Array<Record<string, unknown>> = [];
    const err = await caught(awsStreamTypes(aws(), events));
    expect(err).toBeInstanceOf(ThrottlingException);
    expect(err).toMatchObject({ name: 'ThrottlingException', message: 'Too many tokens, slow down.' });
    expect(events.map((e) => e.type)).toEqual(EVENTS.slice(0, 3));
    const last3 = frames(last().responseBytes).at(-1);
    expect(last3 && [headerOf(last3, ':message-type'), headerOf(last3, ':exception-type')]).toEqual(['exception', 'throttlingException']);
    const streamErr = await caught(awsStreamTypes(aws(), []));
    expect(streamErr).toBeInstanceOf(ModelStreamErrorException);
    expect(streamErr).toMatchObject({ originalStatusCode: 500, originalMessage: 'boom' });
  });

  it('status scripts surface as the modeled exception with Bedrock\'s HTTP status', async () => {
    emu.enqueue({ kind: 'status', errorType: 'ThrottlingException' });
    const err = await caught(aws().send(invoke()));
    expect(err).toBeInstanceOf(ThrottlingException);
    expect((err as ThrottlingException).$metadata.httpStatusCode).toBe(429);
  });

  it('rejects a wrong secret and an unknown key with 403, as AWS does', async () => {
    const wrong = await caught(aws({ ...BedrockEmulator.DEFAULT_CREDENTIALS, secretAccessKey: 'not-the-secret' }).send(invoke()));
    expect(wrong).toMatchObject({ name: 'InvalidSignatureException', $metadata: { httpStatusCode: 403 } });
    expect((wrong as Error).message).toMatch(/^The request signature we calculated does not match the signature you provided/);
    const unknown = await caught(aws({ accessKeyId: 'AKIAUNKNOWN000000000', secretAccessKey: 'x' }).send(invoke()));
    expect(unknown).toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'kept' }] });
    // Rejected requests do not consume scripts.
    expect(JSON.parse(toUtf8((await aws().send(invoke())).body))).toMatchObject({ content: [{ text: 'kept' }] });
  });

  it('a session credential works with its token (signed as x-amz-security-token) and fails without it', async () => {
    const ok = await aws(SESSION).send(invoke());
    expect(ok.$metadata.httpStatusCode).toBe(200);
    expect(last().headers['x-amz-security-token']).toBe(SESSION.sessionToken);
    expect(last().headers.authorization).toMatch(/x-amz-security-token/);
    const err = await caught(aws({ accessKeyId: SESSION.accessKeyId, secretAccessKey: SESSION.secretAccessKey }).send(invoke()));
    expect(err).toMatchObject({ name: 'UnrecognizedClientException', $metadata: { httpStatusCode: 403 } });
  });

  it('reset mid-stream breaks the SDK\'s iteration after the frames already sent', async () => {
    emu.enqueue({ kind: 'reset', afterEvents: 2 });
    const events: Array<Record<string, unknown>> = [];
    expect(await caught(awsStreamTypes(aws(), events))).toBeInstanceOf(Error);
    expect(events.map((e) => e.type)).toEqual(EVENTS.slice(0, 2));
    expect(last().aborted).toBe(false);
  });
});

describe('BedrockEmulator with @anthropic-ai/bedrock-sdk 1.1.3', () => {
  it('messages.create signs a raw-colon path and gets the message plus Bedrock\'s token headers', async () => {
    const { data: msg, response } = await bedrock().messages.create({ model: MODEL, max_tokens: 64, messages: hi }).withResponse();
    expect(msg.id).toMatch(/^msg_bdrk_/);
    expect(msg.content).toEqual([{ type: 'text', text: GREETING }]);
    expect(response.headers.get('x-amzn-bedrock-input-token-count')).toBe(String(msg.usage.input_tokens));
    expect(response.headers.get('x-amzn-bedrock-output-token-count')).toBe(String(msg.usage.output_tokens));
    expect(response.headers.get('x-amzn-bedrock-invocation-latency')).toMatch(/^\d+$/);
    expect(response.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    const rec = last();
    expect(rec).toMatchObject({ path: `/model/${MODEL}/invoke`, modelId: MODEL, auth: 'sigv4' });
    expect(rec.json).toEqual({ max_tokens: 64, messages: hi, anthropic_version: '2026-10-21' });
  });

  it('messages.stream().finalMessage() parses a tool_use from CRC-checked chunk frames', async () => {
    const input = { city: 'Paris "centre"', tags: ['a', 'ü\n'], nested: { n: 1 } };
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input }] });
    const msg = await bedrock().messages.stream({ model: MODEL, max_tokens: 64, messages: hi }).finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content[1]).toEqual({ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input });
    const rec = last();
    expect(rec.path).toBe(`/model/${MODEL}/invoke-with-response-stream`);
    for (const f of frames(rec.responseBytes)) {
      expect([headerOf(f, ':event-type'), headerOf(f, ':content-type'), headerOf(f, ':message-type')]).toEqual(['chunk', 'application/json', 'event']);
    }
    const types = chunkEvents(rec.responseBytes).map((e) => e.type);
    expect(types).not.toContain('ping');
    expect(types.at(-1)).toBe('message_stop');
  });

  it('streams a signed thinking block when thinking is enabled', async () => {
    const msg = await bedrock().messages.stream({
      model: MODEL, max_tokens: 2048, messages: hi, thinking: { type: 'enabled', budget_tokens: 1024 },
    }).finalMessage();
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const [thinking] = msg.content;
    expect(thinking?.type === 'thinking' && thinking.thinking.length > 0 && thinking.signature.length > 0).toBe(true);
  });

  it('accepts a Bedrock API key it knows as a bearer token and rejects others with 403', async () => {
    const msg = await bedrock({ apiKey: API_KEY }).messages.create({ model: MODEL, max_tokens: 16, messages: hi });
    expect(msg.content).toEqual([{ type: 'text', text: GREETING }]);
    expect(last()).toMatchObject({ auth: 'bearer', headers: { authorization: `Bearer ${API_KEY}` } });
    const err = await caught(bedrock({ apiKey: 'bedrock-api-key-wrong' }).messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    expect(err).toBeInstanceOf(PermissionDeniedError);
    expect(err).toMatchObject({ status: 403, error: { Message: 'Authentication failed: Please make sure your API Key is valid.' } });
    expect(last().auth).toBe('bearer');
  });

  it('maps a ThrottlingException status to RateLimitError and an exception frame to an SSE error', async () => {
    emu.enqueue({ kind: 'status', errorType: 'ThrottlingException', headers: { 'retry-after': '3' } },
      { kind: 'exception', afterEvents: 4, exceptionType: 'internalServerException', message: 'Internal failure' });
    const limited = await caught(bedrock().messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect((limited as RateLimitError).headers.get('x-amzn-errortype')).toMatch(/^ThrottlingException:/);
    const mid = await caught(bedrock().messages.stream({ model: MODEL, max_tokens: 16, messages: hi }).finalMessage());
    expect(mid).toBeInstanceOf(APIError);
    expect(mid).toMatchObject({ error: { type: 'error', error: { type: 'internalServerException', message: 'Internal failure' } } });
  });

  it('records the request on arrival; a delay past the client timeout is seen as an abort', async () => {
    emu.enqueue({ kind: 'delay', ms: 2000, then: { kind: 'message' } });
    const pending = caught(bedrock({ timeout: 150 }).messages.create({ model: MODEL, max_tokens: 16, messages: hi }));
    await emu.waitForRequests(1);
    expect(last().modelId).toBe(MODEL);
    expect(await pending).toBeInstanceOf(APIConnectionTimeoutError);
    await expectClientAborted(last());
  });
});

describe('BedrockEmulator over raw HTTP', () => {
  const post = (path: string, body: unknown, e = open): Promise<Response> =>
    fetch(`${e.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const countBody = (invokeJson: unknown): unknown =>
    ({ input: { invokeModel: { body: Buffer.from(JSON.stringify(invokeJson)).toString('base64') } } });

  it('count-tokens decodes raw and percent-encoded model ids and agrees with invoke\'s input_tokens', async () => {
    const raw = await post(`/model/${MODEL}/count-tokens`, countBody(invokeBody()));
    const encoded = await post(`/model/${encodeURIComponent(MODEL)}/count-tokens`, countBody(invokeBody()));
    const invoked = await post(`/model/${MODEL}/invoke`, invokeBody());
    const tokens = ((await invoked.json()) as { usage: { input_tokens: number } }).usage.input_tokens;
    expect(await raw.json()).toEqual({ inputTokens: tokens });
    expect(await encoded.json()).toEqual({ inputTokens: tokens });
    expect(open.requests.map((r) => [r.path.includes('%3A'), r.modelId, r.auth])).toEqual([[false, MODEL, 'none'], [true, MODEL, 'none'], [false, MODEL, 'none']]);
  });

  it.each([
    [{ model: MODEL }, 'extraneous key [model] is not permitted'], [{ stream: true }, 'extraneous key [stream] is not permitted'],
    [{ anthropic_version: undefined }, 'required key [anthropic_version] not found'], [{ anthropic_version: '2023-06-01' }, '#/anthropic_version'],
    [{ anthropic_beta: 'a,b' }, '#/anthropic_beta: expected type: JSONArray'], [{ anthropic_beta: ['ok', 1] }, '#/anthropic_beta/1'],
  ])('rejects an invalid body %j with 400 ValidationException', async (extra, wording) => {
    for (const res of [await post(`/model/${MODEL}/invoke`, invokeBody(extra)), await post(`/model/${MODEL}/count-tokens`, countBody(invokeBody(extra)))]) {
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe('ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/');
      expect(((await res.json()) as { message: string }).message).toContain(wording);
    }
  });

  it('guards the front door: missing auth, unknown routes, inference profiles', async () => {
    const unsigned = await post(`/model/${MODEL}/invoke`, invokeBody(), emu);
    expect([unsigned.status, unsigned.headers.get('x-amzn-errortype')?.split(':')[0]]).toEqual([403, 'MissingAuthenticationTokenException']);
    expect(await unsigned.json()).toEqual({ message: 'Missing Authentication Token' });
    const unknown = await post('/v1/messages', {});
    expect([unknown.status, unknown.headers.get('x-amzn-errortype')?.split(':')[0]]).toEqual([404, 'UnknownOperationException']);
    const profiles = await fetch(`${open.url}/inference-profiles?type=SYSTEM_DEFINED`);
    expect([profiles.status, await profiles.json()]).toEqual([200, { inferenceProfileSummaries: [] }]);
  });

  it.each([
    ['ValidationException', 400], ['AccessDeniedException', 403], ['ResourceNotFoundException', 404], ['ModelTimeoutException', 408],
    ['ModelErrorException', 424], ['ThrottlingException', 429], ['ModelNotReadyException', 429], ['InternalServerException', 500],
    ['ServiceUnavailableException', 503],
  ])('a %s status script answers %i with the AWS error shape', async (type, status) => {
    open.enqueue({ kind: 'status', errorType: type, message: 'scripted' });
    const res = await post(`/model/${MODEL}/invoke-with-response-stream`, invokeBody());
    expect(res.status).toBe(status);
    expect(res.headers.get('x-amzn-errortype')).toBe(`${type}:http://internal.amazon.com/coral/com.amazon.bedrock/`);
    expect(await res.json()).toEqual({ message: 'scripted' });
  });

  it('verifies SigV4 over the path as sent: signing the single-encoded path, or a changed body, fails', async () => {
    const body = JSON.stringify(invokeBody());
    const path = `/model/${encodeURIComponent(MODEL)}/invoke`;
    const signed = async (uriEscapePath: boolean, sentBody: string): Promise<number> => {
      const signer = new SignatureV4({ service: 'bedrock', region: emu.region, credentials: BedrockEmulator.DEFAULT_CREDENTIALS,
        sha256: Hash.bind(null, 'sha256'), uriEscapePath });
      const host = new URL(emu.url).host;
      const req = await signer.sign({ method: 'POST', protocol: 'http:', hostname: '127.0.0.1', path, headers: { host, 'content-type': 'application/json' }, body });
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => k !== 'host'));
      return (await fetch(`${emu.url}${path}`, { method: 'POST', headers, body: sentBody })).status;
    };
    expect(await signed(true, body)).toBe(200);
    expect(await signed(false, body)).toBe(403);
    expect(await signed(true, body.replace('say hi', 'say ho'))).toBe(403);
    expect(emu.requests.map((r) => r.auth)).toEqual(['sigv4', 'sigv4', 'sigv4']);
  });

  it('cuts the stream at arbitrary points: some reads end mid-frame, some carry several frames', async () => {
    const reads = await new Promise<Buffer[]>((resolve, reject) => {
      const req = httpRequest(`${open.url}/model/${MODEL}/invoke-with-response-stream`, { method: 'POST' }, (res) => {
        expect(res.headers['content-type']).toBe('application/vnd.amazon.eventstream');
        const got: Buffer[] = [];
        res.on('data', (b: Buffer) => got.push(b));
        res.on('end', () => resolve(got));
      });
      req.on('error', reject);
      req.end(JSON.stringify(invokeBody()));
    });
    let offset = 0;
    const ends = new Set<number>();
    const all = Buffer.concat(reads);
    while (offset < all.length) ends.add(offset += all.readUInt32BE(offset));
    let at = 0;
    const perRead = reads.map((r) => {
      const from = at;
      at += r.length;
      return { whole: [...ends].filter((e) => e > from && e <= at).length, endsOnEdge: ends.has(at) };
    });
    expect(perRead.some((r) => !r.endsOnEdge)).toBe(true);
    expect(perRead.some((r) => r.whole >= 2)).toBe(true);
    expect(chunkEvents(all).map((e) => e.type)).toEqual(EVENTS);
  });

  it('silence pauses mid-stream and then finishes; eventDelayMs spaces the frames', async () => {
    open.enqueue({ kind: 'silence', afterEvents: 2, ms: 300 });
    const arrivals: Array<[string, number]> = [];
    const res = await fetch(`${open.url}/model/${MODEL}/invoke-with-response-stream`, { method: 'POST', body: JSON.stringify(invokeBody()) });
    const pending = { buf: Buffer.alloc(0) };
    for await (const part of res.body ?? []) {
      pending.buf = Buffer.concat([pending.buf, part]);
      for (const m of framesFrom(pending)) arrivals.push([headerOf(m, ':event-type') as string, performance.now()]);
    }
    expect(arrivals.length).toBe(EVENTS.length);
    const gap = (arrivals[2]?.[1] ?? 0) - (arrivals[1]?.[1] ?? 0);
    expect(gap).toBeGreaterThan(250);
    const slow = await BedrockEmulator.start({ allowUnsigned: true, eventDelayMs: 40 });
    try {
      const t0 = performance.now();
      await (await post(`/model/${MODEL}/invoke-with-response-stream`, invokeBody(), slow)).arrayBuffer();
      expect(performance.now() - t0).toBeGreaterThan(200);
    } finally {
      await slow.close();
    }
  });

  it('a client abort during a stall is recorded as aborted; close() ends stalled connections', async () => {
    open.enqueue({ kind: 'stall', afterEvents: 2 });
    const ac = new AbortController();
    const res = await fetch(`${open.url}/model/${MODEL}/invoke-with-response-stream`, { method: 'POST', body: JSON.stringify(invokeBody()), signal: ac.signal });
    const reader = res.body?.getReader();
    const pending = { buf: Buffer.alloc(0) };
    for (let seen = 0; seen < 2;) {
      const { value } = (await reader?.read()) ?? {};
      if (!value) throw new Error('stream ended during a stall');
      pending.buf = Buffer.concat([pending.buf, value]);
      seen += framesFrom(pending).length;
    }
    ac.abort();
    await expectClientAborted(last(open));
    expect(chunkEvents(last(open).responseBytes).map((e) => e.type)).toEqual(EVENTS.slice(0, 2));

    const other = await BedrockEmulator.start({ allowUnsigned: true });
    other.enqueue({ kind: 'stall', afterEvents: 0 });
    const stalled = await post(`/model/${MODEL}/invoke-with-response-stream`, invokeBody(), other);
    await other.close();
    expect(await caught(stalled.arrayBuffer())).toMatchObject({ message: 'terminated' });
  });
});
