// One conformance suite of what a client sees, run against all three providers: Anthropic,
// Bedrock and Vertex must be indistinguishable through the gateway for the same content.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import type { ContentBlockSpec } from '../emulators/anthropic-sse.js';
import { BedrockEmulator } from '../emulators/bedrock.js';
import { VertexEmulator } from '../emulators/vertex.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

let anthropic: AnthropicEmulator;
let bedrock: BedrockEmulator;
let vertex: VertexEmulator;
let gw: TestGateway;
let key: string;

beforeAll(async () => {
  [anthropic, bedrock, vertex] = await Promise.all([AnthropicEmulator.start(), BedrockEmulator.start(), VertexEmulator.start()]);
  const sa = vertex.serviceAccount();
  gw = await startGateway(
    {
      providers: {
        anthropic: { kind: 'anthropic', api_key: 'env:ANTHROPIC_KEY', base_url: anthropic.url },
        bedrock: { kind: 'bedrock', region: 'us-east-1', base_url: bedrock.url, access_key_id: 'env:AWS_ID', secret_access_key: 'env:AWS_SECRET', ping_interval_ms: 100 },
        vertex: { kind: 'vertex', project: vertex.project, region: 'us-east5', base_url: vertex.baseUrl, token_url: vertex.tokenUrl, service_account: 'env:VERTEX_SA' },
      },
    },
    {
      ANTHROPIC_KEY: anthropic.apiKey,
      AWS_ID: BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId,
      AWS_SECRET: BedrockEmulator.DEFAULT_CREDENTIALS.secretAccessKey,
      VERTEX_SA: JSON.stringify(sa),
    },
  );
  key = (await gw.createKey({ name: 'conformance' })).key;
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([anthropic?.close(), bedrock?.close(), vertex?.close()]);
});
beforeEach(() => {
  anthropic.reset();
  bedrock.reset();
  vertex.reset();
});

type Slug = 'anthropic' | 'bedrock' | 'vertex';
const client = (slug: Slug) => new Anthropic({ baseURL: gw.url, apiKey: key, maxRetries: 0, defaultHeaders: { 'x-portkey-provider': `@${slug}` } });

const script = (slug: Slug, content: ContentBlockSpec[]) => {
  if (slug === 'anthropic') anthropic.enqueue({ kind: 'message', content });
  else if (slug === 'bedrock') bedrock.enqueue({ kind: 'message', content });
  else vertex.enqueue({ kind: 'message', content });
};
const requestsOf = (slug: Slug) => (slug === 'anthropic' ? anthropic.requests : slug === 'bedrock' ? bedrock.requests : vertex.requests);

const CONTENT: ContentBlockSpec[] = [
  { type: 'thinking', thinking: 'Weigh the options first.', signature: 'c2lnbmF0dXJlLW9mLXRoZS10aGlua2luZw==' },
  { type: 'text', text: 'I will look up the weather.' },
  { type: 'tool_use', id: 'toolu_conf_1', name: 'get_weather', input: { city: 'Paris', units: 'metric', days: [1, 2, 3] } },
];
const TOOLS = [{ name: 'get_weather', description: 'Weather', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } } } }];

/** The events a client sees, pings aside (Bedrock sends none; the gateway adds them only when silent). */
async function eventTypes(slug: Slug): Promise<string[]> {
  script(slug, CONTENT);
  const stream = await client(slug).messages.create({ model: 'claude-opus-5-5', max_tokens: 2048, stream: true, tools: TOOLS, messages: [{ role: 'user', content: 'weather?' }] });
  const types: string[] = [];
  for await (const ev of stream) types.push(ev.type === 'content_block_delta' ? `delta:${ev.delta.type}` : ev.type);
  return types;
}

describe('the same content looks the same through every provider', () => {
  it('streams the identical event sequence', async () => {
    const [a, b, v] = [await eventTypes('anthropic'), await eventTypes('bedrock'), await eventTypes('vertex')];
    expect(a[0]).toBe('message_start');
    expect(a.at(-1)).toBe('message_stop');
    expect(a).toContain('delta:signature_delta');
    expect(a).toContain('delta:input_json_delta');
    expect(b).toEqual(a);
    expect(v).toEqual(a);
  });

  it('reports the same usage for the same conversation', async () => {
    const usage = [];
    for (const slug of ['anthropic', 'bedrock', 'vertex'] as const) {
      script(slug, CONTENT);
      const final = await client(slug).messages.stream({ model: 'claude-opus-5-5', max_tokens: 2048, tools: TOOLS, messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
      usage.push({ input: final.usage.input_tokens, output: final.usage.output_tokens, cacheRead: final.usage.cache_read_input_tokens, cacheWrite: final.usage.cache_creation_input_tokens });
    }
    expect(usage[0]!.input).toBeGreaterThan(0);
    expect(usage[1]).toEqual(usage[0]);
    expect(usage[2]).toEqual(usage[0]);
  });

  it.each(['anthropic', 'bedrock', 'vertex'] as const)('%s: finalMessage has the thinking signature, text and tool input intact', async (slug) => {
    script(slug, CONTENT);
    const final = await client(slug).messages.stream({ model: 'claude-opus-5-5', max_tokens: 2048, tools: TOOLS, messages: [{ role: 'user', content: 'weather?' }] }).finalMessage();
    const [thinking, text, tool] = final.content;
    expect(thinking).toMatchObject({ type: 'thinking', thinking: 'Weigh the options first.', signature: 'c2lnbmF0dXJlLW9mLXRoZS10aGlua2luZw==' });
    expect(text).toMatchObject({ type: 'text', text: 'I will look up the weather.' });
    expect(tool).toMatchObject({ type: 'tool_use', id: 'toolu_conf_1', name: 'get_weather', input: { city: 'Paris', units: 'metric', days: [1, 2, 3] } });
    expect(final.stop_reason).toBe('tool_use');
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    expect(final.usage.output_tokens).toBeGreaterThan(0);
  });

  it.each(['anthropic', 'bedrock', 'vertex'] as const)('%s: a non-streaming call returns the same message shape', async (slug) => {
    script(slug, [{ type: 'text', text: 'Plain answer.' }]);
    const msg = await client(slug).messages.create({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] });
    expect(msg.type).toBe('message');
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'Plain answer.' })]);
    expect(msg.stop_reason).toBe('end_turn');
  });

  it.each(['anthropic', 'bedrock', 'vertex'] as const)('%s: the thinking signature goes back upstream untouched on the next turn', async (slug) => {
    const thinking = { type: 'thinking' as const, thinking: 'Earlier reasoning.', signature: 'EqQBCgIYAhIMsig/+=' };
    await client(slug).messages.create({
      model: 'claude-opus-5-5',
      max_tokens: 2048,
      thinking: { type: 'enabled', budget_tokens: 1024 },
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: [thinking, { type: 'text', text: 'ok' }] },
        { role: 'user', content: 'second' },
      ],
    });
    const sent = requestsOf(slug)[0]!.json as { messages: Array<{ content: unknown }> };
    expect(sent.messages[1]!.content).toEqual([thinking, { type: 'text', text: 'ok' }]);
  });

  it.each(['anthropic', 'bedrock', 'vertex'] as const)('%s: count_tokens answers in Anthropic shape', async (slug) => {
    const r = await client(slug).messages.countTokens({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'count these words please' }] });
    expect(r.input_tokens).toBeGreaterThan(0);
  });

  it.each(['bedrock', 'vertex'] as const)('%s: an unknown model is a 404 naming the provider and what it serves', async (slug) => {
    const err = await client(slug).messages.create({ model: 'claude-imaginary-9', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    expect(String((err as Error).message)).toMatch(new RegExp(`claude-imaginary-9 is not available on provider @${slug}. It serves: .*claude-opus-5-5`));
  });
});

describe('provider errors arrive as Anthropic errors', () => {
  it('a throttled call is a RateLimitError on every provider', async () => {
    anthropic.enqueue({ kind: 'status', status: 429, headers: { 'retry-after': '3' } });
    bedrock.enqueue({ kind: 'status', status: 429, errorType: 'ThrottlingException', message: 'Too many requests, please wait before trying again.' });
    vertex.enqueue({ kind: 'status', status: 429, arrayWrapped: true });
    for (const slug of ['anthropic', 'bedrock', 'vertex'] as const) {
      const err = await client(slug).messages.create({ model: 'claude-opus-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err, slug).toBeInstanceOf(Anthropic.RateLimitError);
      const body = (err as InstanceType<typeof Anthropic.RateLimitError>).error as { type: string; error: { type: string; message: string } };
      expect(body.type, slug).toBe('error');
      expect(body.error.type, slug).toBe('rate_limit_error');
    }
  });

  it('a failure mid-stream ends in an error event on every provider', async () => {
    anthropic.enqueue({ kind: 'errorAfter', afterEvents: 3, error: { type: 'overloaded_error', message: 'Overloaded' } });
    bedrock.enqueue({ kind: 'exception', afterEvents: 3, exceptionType: 'serviceUnavailableException', message: 'Bedrock is unavailable' });
    vertex.enqueue({ kind: 'errorAfter', afterEvents: 3, error: { type: 'overloaded_error', message: 'Overloaded' } });
    for (const slug of ['anthropic', 'bedrock', 'vertex'] as const) {
      const stream = await client(slug).messages.create({ model: 'claude-opus-5-5', max_tokens: 64, stream: true, messages: [{ role: 'user', content: 'x' }] });
      const err = await (async () => {
        for await (const _ of stream) void _;
      })().catch((e: unknown) => e);
      expect(String(err), slug).toMatch(/overloaded/i);
    }
  });
});

describe('Bedrock specifics', () => {
  it('sends InvokeModel Anthropic bodies: no model or stream, anthropic_version, betas in the body, unsupported ones dropped and reported', async () => {
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'interleaved-thinking-2025-05-14,claude-code-20250219,oauth-2025-04-20',
        'x-api-key': key,
        'x-portkey-provider': '@bedrock',
      },
      body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, stream: true, context_management: { edits: [] }, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-gatehouse-dropped')).toBe('beta:claude-code-20250219,beta:oauth-2025-04-20,field:context_management');
    expect(await res.text()).toContain('event: message_stop');
    const seen = bedrock.requests[0]!;
    expect(seen.path).toBe('/model/us.anthropic.claude-opus-5-5/invoke-with-response-stream');
    expect(seen.auth).toBe('sigv4');
    expect(seen.json).toEqual({ max_tokens: 16, messages: [{ role: 'user', content: 'hi' }], anthropic_version: 'bedrock-2023-05-31', anthropic_beta: ['interleaved-thinking-2025-05-14'] });
  });

  it('synthesises pings while Bedrock is silent', async () => {
    bedrock.enqueue({ kind: 'silence', afterEvents: 2, ms: 450 });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, 'x-portkey-provider': '@bedrock' },
      body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    });
    const text = await res.text();
    expect(text.match(/event: ping\n/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(text).toContain('event: message_stop');
  });

  it('a wrong AWS secret is a 502 that blames the gateway credentials, not the developer key', async () => {
    const other = await startGateway(
      { providers: { bedrock: { kind: 'bedrock', region: 'us-east-1', base_url: bedrock.url, access_key_id: 'env:AWS_ID', secret_access_key: 'env:AWS_SECRET' } } },
      { AWS_ID: BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId, AWS_SECRET: 'not-the-secret' },
    );
    try {
      const k = (await other.createKey({ name: 'x' })).key;
      const res = await fetch(`${other.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': k },
        body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
      });
      expect(res.status).toBe(502);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('api_error');
      expect(body.error.message).toMatch(/Provider @bedrock refused the gateway's own credentials: Bedrock said .*Exception/);
    } finally {
      await other.close();
    }
  });
});

describe('Vertex specifics', () => {
  it('sends rawPredict bodies without model, with vertex-2023-10-16, and reuses its cached token', async () => {
    for (let i = 0; i < 2; i++) await client('vertex').messages.create({ model: 'claude-sonnet-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] });
    const seen = vertex.requests[0]!;
    expect(seen.path).toBe(`/v1/projects/${vertex.project}/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:rawPredict`);
    expect(seen.json).toEqual({ model: undefined, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }], anthropic_version: 'vertex-2023-10-16' });
    expect(vertex.requests[1]!.token).toBe(seen.token);
    expect(vertex.tokenRequests.filter((t) => t.ok).length).toBeLessThanOrEqual(1);
  });
});
