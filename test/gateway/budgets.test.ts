// Budgets as a developer and an admin see them: through the real SDK, on real sockets, with streams
// running concurrently against a small budget.
import Anthropic from '@anthropic-ai/sdk';
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { BudgetView } from '../../gateway/src/api/schemas.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let hook: Server;
let hookUrl = '';
const deliveries: Array<{ attempt: string; signature: string; body: string }> = [];
let failNext = 0;

const LONG_TEXT = 'The quick brown fox jumps over the lazy dog. '.repeat(36); // ~1,600 characters, ~400 tokens
const SECRET = 'whsec_test_0123456789';

beforeAll(async () => {
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      deliveries.push({ attempt: String(req.headers['x-gatehouse-delivery-attempt']), signature: String(req.headers['x-gatehouse-signature']), body });
      if (failNext > 0) {
        failNext--;
        res.writeHead(503).end();
      } else res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  hookUrl = `http://127.0.0.1:${(hook.address() as { port: number }).port}/alerts`;
  emu = await AnthropicEmulator.start({ eventDelayMs: 2 });
  gw = await startGateway(
    anthropicConfig(emu.url, {
      budgets: { timezone: 'UTC', webhook: { url: hookUrl, secret: 'env:HOOK_SECRET', retry_base_ms: 50 } },
      workspaces: { eng: { budget: { usd: 1000, period: 'month' }, user_budget: { tokens: 3000, period: 'day' } } },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey, HOOK_SECRET: SECRET },
  );
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
  await new Promise((r) => hook?.close(r));
});
beforeEach(() => {
  emu.reset();
  deliveries.length = 0;
  failNext = 0;
});

const client = (key: string, headers: Record<string, string> = {}) => new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0, defaultHeaders: headers });

/** The message of the gateway's error envelope, as the SDK parsed it. */
const apiMessage = (e: unknown) => ((e as InstanceType<typeof Anthropic.APIError>).error as { error: { message: string } }).error.message;

async function budgets(scope: string): Promise<BudgetView[]> {
  const r = await gw.admin<{ data: BudgetView[] }>('GET', '/api/admin/budgets');
  return r.body.data.filter((b) => b.scope === scope);
}

/** Streams one message with raw fetch, returning status, headers and the text of the body. */
async function stream(key: string, maxTokens: number, headers: Record<string, string> = {}) {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: maxTokens, stream: true, messages: [{ role: 'user', content: 'write' }] }),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}

describe('a small USD budget under 50 concurrent streams', () => {
  it('ends streams that cross it, refuses the rest, and records at most one request over the limit', async () => {
    // claude-sonnet-5-5: $2 in, $10 out per million. Each stream writes ~420 output tokens (~$0.0042).
    const limit = 0.02;
    const k = await gw.createKey({ name: 'small-budget', budget_usd: limit, budget_period: 'day' });
    for (let i = 0; i < 50; i++) emu.enqueue({ kind: 'message', content: [{ type: 'text', text: LONG_TEXT }] });
    const results = await Promise.all(Array.from({ length: 50 }, () => stream(k.key, 100)));

    const refused = results.filter((r) => r.status === 429);
    const started = results.filter((r) => r.status === 200);
    const cut = started.filter((r) => r.text.includes('event: error'));
    const completed = started.filter((r) => r.text.includes('event: message_stop'));
    expect(refused.length + started.length).toBe(50);
    expect(cut.length).toBeGreaterThan(0);
    expect(refused.length).toBeGreaterThan(0);
    // A cut stream ends with a whole error event that says why, after whole events only.
    const last = cut[0]!.text.trimEnd().split('\n\n').at(-1)!;
    expect(last).toMatch(/^event: error\ndata: /);
    const err = JSON.parse(last.split('\n')[1]!.slice(6)) as { type: string; error: { type: string; message: string } };
    expect(err.error.type).toBe('rate_limit_error');
    expect(err.error.message).toMatch(/Budget exhausted: key "small-budget" has used \$0\.02\d* of its \$0\.02 daily budget.*This response was ended here; what it used has been recorded\./);

    const [b] = await budgets(`key:${k.id}`);
    expect(b).toMatchObject({ unit: 'usd', limit, period: 'day', reserved: 0 });
    const oneRequest = (20 * 2 + 450 * 10) / 1e6; // generous: ~20 input and ~450 output tokens
    expect(b!.spent).toBeGreaterThan(limit * 0.5);
    expect(b!.spent).toBeLessThanOrEqual(limit + oneRequest);
    // Every started stream cost something: the completed at their real usage, the cut ones as estimated.
    expect(completed.length + cut.length).toBe(started.length);
  });

  it('answers 429 in the Anthropic envelope once exhausted, with retry-after until the reset and no retry', async () => {
    const k = await gw.createKey({ name: 'spent', budget_usd: 0.001, budget_period: 'day' });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: LONG_TEXT }] });
    const first = await client(k.key).messages.create({ model: 'claude-sonnet-5-5', max_tokens: 600, messages: [{ role: 'user', content: 'hi' }] });
    expect(first.usage.output_tokens).toBeGreaterThan(100);
    const before = emu.requests.length;
    const e = await client(k.key)
      .messages.create({ model: 'claude-sonnet-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((x: unknown) => x);
    expect(e).toBeInstanceOf(Anthropic.RateLimitError);
    const err = e as InstanceType<typeof Anthropic.RateLimitError>;
    expect(err.status).toBe(429);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'rate_limit_error', message: expect.stringMatching(/^Budget exhausted: key "spent" has used \$0\.00\d+ of its \$0\.001 daily budget\. It resets at \d{4}-\d\d-\d\dT00:00:00\.000Z \(UTC, in /) } });
    const midnight = new Date();
    midnight.setUTCHours(24, 0, 0, 0);
    const retryAfter = Number(err.headers?.get('retry-after'));
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(Math.abs(retryAfter - (midnight.getTime() - Date.now()) / 1000)).toBeLessThan(5);
    expect(err.headers?.get('x-should-retry')).toBe('false');
    expect(emu.requests.length).toBe(before);
  });
});

describe('per-developer budgets in a workspace, and alerts', () => {
  it('counts each user separately, the key-pinned user wins, and alerts go out once, signed, retried', async () => {
    const alice = await gw.createKey({ name: 'alice-laptop', workspace: 'eng', metadata: { user: 'alice' } });
    const shared = await gw.createKey({ name: 'shared', workspace: 'eng' });
    failNext = 1;
    // Each answer reports 1,000 input + 600 output tokens: the 3,000-token daily budget is crossed on the 2nd.
    for (let i = 0; i < 2; i++) emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 1000, output_tokens: 600 } });
    const ask = (key: string, user?: string) =>
      client(key, user ? { 'x-portkey-metadata': JSON.stringify({ user }) } : {}).messages.create({ model: 'claude-haiku-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] });
    await ask(alice.key, 'mallory'); // the key says alice
    await ask(alice.key);
    const third = await ask(alice.key).catch((x: unknown) => x);
    expect(third).toBeInstanceOf(Anthropic.RateLimitError);
    expect(apiMessage(third)).toMatch(/user "alice" in workspace "eng" has used 3,200 tokens of its 3,000 tokens daily budget/);
    // Bob is unaffected; a request without a user is told how to say who it is.
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage: { input_tokens: 10, output_tokens: 5 } });
    await expect(ask(shared.key, 'bob')).resolves.toMatchObject({ type: 'message' });
    const anon = await ask(shared.key).catch((x: unknown) => x);
    expect(anon).toBeInstanceOf(Anthropic.BadRequestError);
    expect(apiMessage(anon)).toMatch(/Workspace "eng" sets budgets or limits per developer.*"user" field to the x-portkey-metadata header/);

    const users = (await gw.admin<{ data: BudgetView[] }>('GET', '/api/admin/budgets?workspace=eng')).body.data.filter((b) => b.scope.startsWith('user:'));
    expect(users.map((u) => [u.scope, u.spent]).sort()).toEqual([['user:eng:alice', 3200], ['user:eng:bob', 15]]);

    // 50 %, 80 % and 100 % of alice's budget, the first delivery failed once and was retried.
    await expect.poll(() => deliveries.filter((d) => d.body.includes('"scope":"user:eng:alice"')).length, { timeout: 5000 }).toBe(4);
    const alerts = deliveries.map((d) => ({ ...d, json: JSON.parse(d.body) as { scope: string; threshold: number; unit: string; spent: number; limit: number; message: string } }));
    for (const d of alerts) expect(d.signature).toBe('sha256=' + createHmac('sha256', SECRET).update(d.body).digest('hex'));
    const alice50 = alerts.filter((d) => d.json.scope === 'user:eng:alice' && d.json.threshold === 50);
    expect(alice50.map((d) => d.attempt)).toEqual(['1', '2']);
    const thresholds = [...new Set(alerts.filter((d) => d.json.scope === 'user:eng:alice').map((d) => d.json.threshold))].sort((a, b) => a - b);
    expect(thresholds).toEqual([50, 80, 100]);
    expect(alerts.find((d) => d.json.scope === 'user:eng:alice' && d.json.threshold === 100)!.json).toMatchObject({ unit: 'tokens', spent: 3200, limit: 3000, message: expect.stringMatching(/user "alice" in workspace "eng" has used 100% of its budget/) });
  });
});
