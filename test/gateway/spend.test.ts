// What requests cost, as the budget records it: prompt-cache writes and reads at their own prices,
// the gateway's cache hits at zero, Bedrock's usage after the event-stream conversion, and
// unpriced models refused where a dollar budget could not be enforced.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetView } from '../../gateway/src/api/schemas.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { BedrockEmulator } from '../emulators/bedrock.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let bedrock: BedrockEmulator;
let gw: TestGateway;

beforeAll(async () => {
  [emu, bedrock] = await Promise.all([AnthropicEmulator.start(), BedrockEmulator.start()]);
  gw = await startGateway(
    {
      providers: {
        anthropic: { kind: 'anthropic', api_key: 'env:TEST_ANTHROPIC_KEY', base_url: emu.url },
        bedrock: { kind: 'bedrock', region: 'us-east-1', base_url: bedrock.url, access_key_id: 'env:AWS_ID', secret_access_key: 'env:AWS_SECRET' },
      },
      default_provider: 'anthropic',
      configs: { cached: { provider: '@anthropic', cache: { mode: 'simple', max_age: 60 } } },
      pricing: { 'acme-internal-1': { input: 1, output: 2 } },
    },
    { TEST_ANTHROPIC_KEY: emu.apiKey, AWS_ID: BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId, AWS_SECRET: BedrockEmulator.DEFAULT_CREDENTIALS.secretAccessKey },
  );
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([emu?.close(), bedrock?.close()]);
});
beforeEach(() => {
  emu.reset();
  bedrock.reset();
});

async function spent(keyId: string): Promise<{ usd: number; tokens: number }> {
  const { body } = await gw.admin<{ data: BudgetView[] }>('GET', '/api/admin/budgets');
  const of = (unit: string) => body.data.find((b) => b.scope === `key:${keyId}` && b.unit === unit)?.spent ?? NaN;
  return { usd: of('usd'), tokens: of('tokens') };
}

const sdk = (key: string, headers: Record<string, string> = {}) => new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0, defaultHeaders: headers });

describe('cost from the final usage', () => {
  it('prices cache writes and reads apart, from the last cumulative message_delta of a stream', async () => {
    const k = await gw.createKey({ name: 'cache-aware', budget_usd: 100, budget_tokens: 1_000_000, budget_period: 'month' });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'cached answer' }], usage: { input_tokens: 100, cache_creation_input_tokens: 2000, cache_read_input_tokens: 10_000, output_tokens: 50 } });
    const msg = await sdk(k.key).messages.stream({ model: 'claude-opus-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(msg.usage).toMatchObject({ input_tokens: 100, cache_read_input_tokens: 10_000, output_tokens: 50 });
    // Opus 5.5 per million: $4 in, $5 5-minute write, $0.20 read, $20 out.
    const usd = (100 * 4 + 2000 * 5 + 10_000 * 0.2 + 50 * 20) / 1e6;
    const s = await spent(k.id);
    expect(s.usd).toBeCloseTo(usd, 10);
    expect(s.tokens).toBe(100 + 2000 + 10_000 + 50);
  });

  it('charges nothing for an answer from the gateway cache', async () => {
    const k = await gw.createKey({ name: 'cache-hit', budget_usd: 100, config: 'cached' });
    const ask = () => sdk(k.key).messages.create({ model: 'claude-haiku-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'the same question' }] }).withResponse();
    const first = await ask();
    expect(first.response.headers.get('x-portkey-cache-status')).toBe('MISS');
    const after = (await spent(k.id)).usd;
    expect(after).toBeGreaterThan(0);
    const second = await ask();
    expect(second.response.headers.get('x-portkey-cache-status')).toBe('HIT');
    expect((await spent(k.id)).usd).toBe(after);
    expect(emu.requests).toHaveLength(1);
  });

  it('records Bedrock usage through the event-stream conversion', async () => {
    const k = await gw.createKey({ name: 'bedrock', provider: 'bedrock', budget_usd: 100, budget_tokens: 1_000_000 });
    bedrock.enqueue({ kind: 'message', content: [{ type: 'text', text: 'from bedrock' }], usage: { input_tokens: 300, output_tokens: 40 } });
    const msg = await sdk(k.key).messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }).finalMessage();
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'from bedrock' });
    const s = await spent(k.id);
    expect(s.tokens).toBe(340);
    // Sonnet 4.5: $3 in, $15 out.
    expect(s.usd).toBeCloseTo((300 * 3 + 40 * 15) / 1e6, 10);
  });

  it('prices a model from the config table, and refuses an unpriced model where a dollar budget applies', async () => {
    const k = await gw.createKey({ name: 'custom-model', budget_usd: 5 });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 1000, output_tokens: 1000 } });
    await sdk(k.key).messages.create({ model: 'acme-internal-1', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] });
    expect((await spent(k.id)).usd).toBeCloseTo(0.003, 10);

    const e = await sdk(k.key).messages.create({ model: 'claude-mystery-9', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.BadRequestError);
    expect(((e as InstanceType<typeof Anthropic.APIError>).error as { error: { message: string } }).error.message).toBe(
      'Model claude-mystery-9 has no price on this gateway, so a dollar budget cannot be enforced for it. Ask your Gatehouse admin to add it under "pricing" in the config.',
    );
    // Without a dollar budget the request goes through (and the gateway warns in its log).
    const free = await gw.createKey({ name: 'no-budget' });
    await expect(sdk(free.key).messages.create({ model: 'claude-mystery-9', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] })).resolves.toMatchObject({ type: 'message' });
  });
});
