// Guardrails as a developer meets them, through the real SDK: a denied request never reaches the
// provider and is told where (never what) the problem was; a redacted one arrives redacted; a
// flagged one arrives as sent. Attached to a workspace and to a routing config.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let secure: string;
let guarded: string;

const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
const CARD = '4111 1111 1111 1111';

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    anthropicConfig(emu.url, {
      guardrails: {
        'no-secrets': { type: 'secrets', action: 'deny' },
        'pii-redact': { type: 'pii', kinds: ['email', 'card'], action: 'redact' },
        codenames: { type: 'blocked_words', words: ['bluebird'], action: 'flag' },
        'haiku-only': { type: 'allowed_models', models: ['claude-haiku-*'], action: 'deny' },
      },
      workspaces: { secure: { guardrails: ['pii-redact', 'no-secrets', 'codenames'] } },
      configs: { guarded: { provider: '@anthropic', input_guardrails: ['haiku-only'] } },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey },
  );
  secure = (await gw.createKey({ name: 'secure', workspace: 'secure' })).key;
  guarded = (await gw.createKey({ name: 'guarded', config: 'guarded' })).key;
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

const sdk = (key: string) => new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
const apiError = (e: unknown) => (e as InstanceType<typeof Anthropic.APIError>).error as { error: { type: string; message: string } };

describe('deny', () => {
  it('refuses a secret inside a tool result with a 400 that says where, never what', async () => {
    const e = await sdk(secure)
      .messages.create({
        model: 'claude-sonnet-5-5',
        max_tokens: 16,
        messages: [
          { role: 'user', content: 'read my config' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Read', input: { file_path: '/home/me/.aws/credentials' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: `[default]\naws_access_key_id = ${AWS_KEY}\n` }] },
        ],
      })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    const body = apiError(e);
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(/Guardrail "no-secrets"/);
    expect(body.error.message).toContain('messages[2].content[0].content');
    expect(JSON.stringify(body)).not.toContain(AWS_KEY);
    expect(JSON.stringify(body)).not.toContain('AKIA');
    expect((e as InstanceType<typeof Anthropic.APIError>).headers?.get('x-gatehouse-guardrails')).toMatch(/no-secrets=denied/);
    expect(emu.requests).toHaveLength(0);
  });

  it('a config guardrail limits models for the keys that use the config', async () => {
    const e = await sdk(guarded).messages.create({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    expect(apiError(e).error.message).toMatch(/Guardrail "haiku-only"/);
    await expect(sdk(guarded).messages.create({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })).resolves.toMatchObject({ type: 'message' });
    expect(emu.requests).toHaveLength(1);
  });
});

describe('redact and flag', () => {
  it('forwards the request with PII replaced, everywhere it appears, streaming too', async () => {
    const stream = sdk(secure).messages.stream({
      model: 'claude-sonnet-5-5',
      max_tokens: 16,
      system: [{ type: 'text', text: 'Support agent for jane.doe@example.com.', cache_control: { type: 'ephemeral' } }],
      messages: [{ role: 'user', content: [{ type: 'text', text: `Charge ${CARD} and mail bob@example.org` }] }],
    });
    const { response } = await stream.withResponse();
    await stream.finalMessage();
    expect(response.headers.get('x-gatehouse-guardrails')).toBe('pii-redact=redacted');
    const sent = JSON.parse(emu.requests[0]!.body.toString()) as { system: Array<{ text: string; cache_control: unknown }>; messages: Array<{ content: Array<{ text: string }> }>; stream: boolean; max_tokens: number };
    expect(sent.system[0]).toEqual({ type: 'text', text: 'Support agent for [REDACTED:email].', cache_control: { type: 'ephemeral' } });
    expect(sent.messages[0]!.content[0]!.text).toBe('Charge [REDACTED:card] and mail [REDACTED:email]');
    expect(sent).toMatchObject({ stream: true, max_tokens: 16 });
    expect(emu.requests[0]!.body.toString()).not.toMatch(/example\.(com|org)|4111/);
  });

  it('a flagged request goes through byte for byte, with the outcome in a header', async () => {
    const body = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'status of Bluebird?' }] });
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': secure }, body });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get('x-gatehouse-guardrails')).toBe('codenames=flagged');
    expect(emu.requests[0]!.body.toString()).toBe(body);
  });

  it('a clean request carries no guardrail header and is forwarded untouched', async () => {
    const body = JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hello there' }] });
    const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': secure }, body });
    expect(res.status).toBe(200);
    await res.text();
    expect(res.headers.get('x-gatehouse-guardrails')).toBeNull();
    expect(emu.requests[0]!.body.toString()).toBe(body);
  });
});

describe('config checks', () => {
  it('refuses an inline or admin config naming an unknown guardrail', async () => {
    const r = await gw.admin<{ error: { message: string } }>('PUT', '/api/admin/configs/bad', { provider: '@anthropic', input_guardrails: ['nope'] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/config\.input_guardrails: "nope" is not a guardrail of this gateway/);
  });
});
