// Rate limits and workspace scoping as a developer meets them: 429s with retry-after and
// anthropic-ratelimit-* headers, per key, per workspace and per developer.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    {
      ...anthropicConfig(emu.url),
      providers: {
        anthropic: { kind: 'anthropic', api_key: 'env:TEST_ANTHROPIC_KEY', base_url: emu.url },
        backup: { kind: 'anthropic', api_key: 'env:TEST_ANTHROPIC_KEY', base_url: emu.url },
      },
      configs: { 'haiku-only': { provider: '@anthropic', override_params: { model: 'claude-haiku-5-5' } }, 'via-backup': { provider: '@backup' } },
      workspaces: {
        team: { limits: { rpm: 2 }, onboarding: { metadata_template: { user: '', team: 'eng', env: 'prod' }, models: { default: 'claude-sonnet-5-5', haiku: 'claude-haiku-5-5' }, headers: { 'x-portkey-config': 'haiku-only' } } },
        devs: { user_limits: { max_concurrent: 1 } },
        locked: { providers: ['anthropic'], allowed_models: ['claude-haiku-*'], default_config: 'haiku-only' },
      },
    },
    { TEST_ANTHROPIC_KEY: emu.apiKey },
  );
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

async function send(key: string, opts: { headers?: Record<string, string>; content?: string; stream?: boolean; model?: string } = {}) {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...opts.headers },
    body: JSON.stringify({ model: opts.model ?? 'claude-sonnet-5-5', max_tokens: 8, stream: opts.stream ?? false, messages: [{ role: 'user', content: opts.content ?? 'hi' }] }),
  });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, error: res.status >= 400 ? (JSON.parse(text) as { error: { type: string; message: string } }).error : undefined };
}

describe('tokens per minute', () => {
  it('lets a request through on a full bucket, then refuses with whole-second retry-after and token headers', async () => {
    const k = await gw.createKey({ name: 'tpm', tpm: 100 });
    const first = await send(k.key, { content: 'x'.repeat(600) });
    expect(first.status).toBe(200);
    expect(first.headers.get('anthropic-ratelimit-tokens-limit')).toBe('100');
    expect(first.headers.get('anthropic-ratelimit-tokens-remaining')).toBe('0');
    expect(Date.parse(first.headers.get('anthropic-ratelimit-tokens-reset') ?? '')).toBeGreaterThan(Date.now());
    const second = await send(k.key);
    expect(second.status).toBe(429);
    expect(second.error).toMatchObject({ type: 'rate_limit_error', message: expect.stringMatching(/^The key "tpm" is limited to 100 tokens per minute; retry in \d+ s\.$/) });
    const retryAfter = second.headers.get('retry-after') ?? '';
    expect(retryAfter).toMatch(/^\d+$/);
    expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
    expect(second.headers.get('x-should-retry')).toBe('true');
    expect(emu.requests).toHaveLength(1);
  });

  it('counts input, cache writes and output toward tokens per minute, not cache reads (as Anthropic does)', async () => {
    const k = await gw.createKey({ name: 'tpm-cache', tpm: 5_000 });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 10, cache_read_input_tokens: 200_000, output_tokens: 5 } });
    expect((await send(k.key)).status).toBe(200);
    // 200,000 cached tokens later the bucket still holds all but about 15.
    const next = await send(k.key);
    expect(next.status).toBe(200);
    expect(Number(next.headers.get('anthropic-ratelimit-tokens-remaining'))).toBeGreaterThan(4_900);
  });

  it('the SDK sees the 429 as a RateLimitError with the same headers', async () => {
    const k = await gw.createKey({ name: 'rpm-one', rpm: 1 });
    const c = new Anthropic({ apiKey: k.key, baseURL: gw.url, maxRetries: 0 });
    const ok = await c.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).withResponse();
    expect(ok.response.headers.get('anthropic-ratelimit-requests-limit')).toBe('1');
    const e = await c.messages.create({ model: 'claude-sonnet-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    expect(Number((e as InstanceType<typeof Anthropic.RateLimitError>).headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
  });
});

describe('workspace and developer limits', () => {
  it('a workspace rpm is shared by all its keys and named in the refusal', async () => {
    const a = await gw.createKey({ name: 'a', workspace: 'team' });
    const b = await gw.createKey({ name: 'b', workspace: 'team' });
    expect((await send(a.key)).status).toBe(200);
    expect((await send(b.key)).status).toBe(200);
    const third = await send(a.key);
    expect(third.status).toBe(429);
    expect(third.error?.message).toMatch(/^The workspace "team" is limited to 2 requests per minute/);
    // Another workspace is not affected.
    expect((await send((await gw.createKey({ name: 'c' })).key)).status).toBe(200);
  });

  it('a developer may have one request in flight; another developer may too', async () => {
    const k = await gw.createKey({ name: 'shared', workspace: 'devs' });
    emu.enqueue({ kind: 'delay', ms: 400, then: { kind: 'message' } });
    const as = (user: string) => ({ 'x-portkey-metadata': JSON.stringify({ user }) });
    const slow = send(k.key, { headers: as('ann') });
    await new Promise((r) => setTimeout(r, 100));
    const again = await send(k.key, { headers: as('ann') });
    expect(again.status).toBe(429);
    expect(again.error?.message).toMatch(/^The user "ann" in workspace "devs" may have at most 1 requests in flight/);
    expect((await send(k.key, { headers: as('ben') })).status).toBe(200);
    expect((await slow).status).toBe(200);
    // Once the first finished, ann may go again.
    expect((await send(k.key, { headers: as('ann') })).status).toBe(200);
  });
});

describe('workspace isolation', () => {
  it('limits providers and models, and supplies its default config', async () => {
    const k = await gw.createKey({ name: 'locked', workspace: 'locked' });
    const viaBackup = await send(k.key, { model: 'claude-haiku-5-5', headers: { 'x-portkey-config': 'via-backup' } });
    expect(viaBackup.status).toBe(403);
    expect(viaBackup.error?.message).toMatch(/Workspace "locked" may not use provider @backup\. It may use: @anthropic/);
    const opus = await send(k.key, { model: 'claude-opus-5-5' });
    expect(opus.status).toBe(403);
    expect(opus.error?.message).toMatch(/Model claude-opus-5-5 is not allowed for workspace "locked"\. It may use: claude-haiku-\*/);
    const ok = await send(k.key, { model: 'claude-haiku-4-5' });
    expect(ok.status).toBe(200);
    // The workspace's default config rewrote the model.
    expect(JSON.parse(emu.requests.at(-1)!.body.toString()).model).toBe('claude-haiku-5-5');
  });

  it('a config created for one workspace does not exist for another', async () => {
    const put = await gw.admin('PUT', '/api/admin/configs/team-route?workspace=locked', { provider: '@anthropic', override_params: { model: 'claude-haiku-5-5' } });
    expect(put.status).toBe(200);
    const outsider = await gw.createKey({ name: 'outsider' });
    const refused = await send(outsider.key, { headers: { 'x-portkey-config': 'team-route' } });
    expect(refused.status).toBe(400);
    expect(refused.error?.message).toMatch(/config "team-route" is not defined on this gateway \(known: (?!.*team-route)/);
    expect(emu.requests).toHaveLength(0);
    const badKey = await gw.admin<{ error: { message: string } }>('POST', '/api/admin/keys', { name: 'x', config: 'team-route' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.message).toMatch(/config: "team-route" is not defined for workspace "default"/);
    const listed = await gw.admin<{ data: Array<{ id: string }> }>('GET', '/api/admin/configs?workspace=team');
    expect(listed.body.data.map((c) => c.id)).not.toContain('team-route');
    const insider = await gw.createKey({ name: 'insider', workspace: 'locked', config: 'team-route' });
    expect((await send(insider.key, { model: 'claude-haiku-4-5' })).status).toBe(200);
    expect(JSON.parse(emu.requests.at(-1)!.body.toString()).model).toBe('claude-haiku-5-5');
  });

  it('lists the workspaces with their policy for admins, and a key sees only its own in /api/me', async () => {
    const ws = await gw.admin<{ data: Array<{ id: string; limits: unknown }> }>('GET', '/api/admin/workspaces');
    expect(ws.body.data.map((w) => w.id).sort()).toEqual(['default', 'devs', 'locked', 'team']);
    const k = await gw.createKey({ name: 'me', workspace: 'team', budget_usd: 5, budget_period: 'week', rpm: 10, metadata: { env: 'prod' }, required_metadata: ['user', 'ticket'] });
    const me = (await (await fetch(`${gw.url}/api/me`, { headers: { authorization: `Bearer ${k.key}` } })).json()) as {
      key: { id: string; name: string }; workspace: { id: string }; limits: { key: { rpm: number }; workspace: unknown }; budgets: Array<{ scope: string; limit: number; spent: number; resets_at: string }>;
    };
    expect(me).toMatchObject({ key: { id: k.id, name: 'me' }, workspace: { id: 'team' }, limits: { key: { rpm: 10 }, workspace: { rpm: 2 } } });
    expect(me.budgets).toEqual([expect.objectContaining({ scope: `key:${k.id}`, limit: 5, spent: 0 })]);
    // The onboarding profile: the workspace's template minus what the key pins, plus what it requires.
    expect((me as unknown as { profile: unknown }).profile).toEqual({
      metadata_template: { user: '', team: 'eng', ticket: '' },
      required_metadata: ['user', 'ticket'],
      models: { default: 'claude-sonnet-5-5', haiku: 'claude-haiku-5-5' },
      headers: { 'x-portkey-config': 'haiku-only' },
    });
    expect(JSON.stringify(me)).not.toContain(k.key);
  });
});
