// Request logs as an admin and a developer read them: a row for every request whatever its
// outcome, with usage, cost, routing and policy outcomes; filters on any metadata combination;
// cursor paging; a developer sees only their own rows.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    anthropicConfig(emu.url, {
      guardrails: { 'no-secrets': { type: 'secrets', action: 'deny' } },
      workspaces: { support: { guardrails: ['no-secrets'] } },
      configs: { cached: { provider: '@anthropic', cache: 'simple' } },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey },
  );
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

const logs = async (query: string) => (await gw.admin<{ data: LogRow[]; next_cursor: string | null }>('GET', `/api/admin/logs${query}`)).body;

describe('a row for every request', () => {
  it('records a stream with its usage, cost, routing, session and metadata', async () => {
    const k = await gw.createKey({ name: 'logged', metadata: { team: 'support' } });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'hello' }], usage: { input_tokens: 100, cache_read_input_tokens: 1000, output_tokens: 20 } });
    const c = new Anthropic({ apiKey: k.key, baseURL: gw.url, maxRetries: 0, defaultHeaders: { 'x-portkey-metadata': '{"env":"prod","user":"ann"}', 'x-claude-code-session-id': 'sess-1', 'x-portkey-trace-id': 'trace-1' } });
    const stream = c.messages.stream({ model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }] });
    const { response } = await stream.withResponse();
    await stream.finalMessage();
    // The row is stored before the response ends: it is there at once.
    const { data } = await logs(`?key_id=${k.id}`);
    expect(data).toHaveLength(1);
    const row = data[0]!;
    expect(row).toMatchObject({
      upstream_request_id: response.headers.get('request-id'),
      trace_id: 'trace-1',
      session_id: 'sess-1',
      workspace: 'default',
      key_id: k.id,
      key_name: 'logged',
      metadata: { team: 'support', env: 'prod', user: 'ann' },
      endpoint: 'messages',
      stream: true,
      model: 'claude-sonnet-5-5',
      served_model: 'claude-sonnet-5-5',
      provider: 'anthropic',
      route_path: 'config',
      status: 200,
      outcome: 'ok',
      input_tokens: 100,
      output_tokens: 20,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 0,
      usage_final: true,
    });
    expect(row.cost_usd).toBeCloseTo((100 * 2 + 1000 * 0.1 + 20 * 10) / 1e6, 12);
    expect(row.ttft_ms).toBeGreaterThan(0);
    expect(row.latency_ms).toBeGreaterThanOrEqual(row.ttft_ms!);
    expect(row.user_agent).toMatch(/Anthropic\/JS/);
    expect((await gw.admin<LogRow>('GET', `/api/admin/logs/${row.id}`)).body).toEqual(row);
  });

  it('records refusals too: no key, a guardrail deny (with its verdict), a cache hit at zero cost', async () => {
    const anon = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(anon.status).toBe(401);
    const anonRow = (await gw.admin<LogRow>('GET', `/api/admin/logs/${anon.headers.get('request-id')}`)).body;
    expect(anonRow).toMatchObject({ status: 401, outcome: 'error', error_code: 'missing_key', error_type: 'authentication_error', key_id: null });

    const s = await gw.createKey({ name: 'support-dev', workspace: 'support' });
    const denied = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': s.key },
      body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'my key is AKIAIOSFODNN7EXAMPLE' }] }),
    });
    expect(denied.status).toBe(400);
    const deniedRow = (await gw.admin<LogRow>('GET', `/api/admin/logs/${denied.headers.get('request-id')}`)).body;
    expect(deniedRow).toMatchObject({ status: 400, error_code: 'guardrail_denied', guardrails: [expect.objectContaining({ id: 'no-secrets', action: 'deny' })] });
    expect(JSON.stringify(deniedRow)).not.toContain('AKIAIOSFODNN7EXAMPLE');

    const c = await gw.createKey({ name: 'cache-user', config: 'cached' });
    const ask = () =>
      fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': c.key }, body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'same' }] }) });
    await (await ask()).text();
    const hit = await ask();
    expect(hit.headers.get('x-portkey-cache-status')).toBe('HIT');
    const hitRow = (await gw.admin<LogRow>('GET', `/api/admin/logs/${hit.headers.get('request-id')}`)).body;
    expect(hitRow).toMatchObject({ status: 200, cache_status: 'HIT', cost_usd: 0, input_tokens: 0 });
  });
});

describe('queries', () => {
  it('filters on any combination of metadata fields and pages with a cursor', async () => {
    const k = await gw.createKey({ name: 'filters' });
    const send = (meta: Record<string, string>) =>
      fetch(`${gw.url}/v1/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': k.key, 'x-portkey-metadata': JSON.stringify(meta) },
        body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
      }).then((r) => r.text());
    for (const meta of [{ team: 'qa', env: 'prod' }, { team: 'qa', env: 'dev' }, { team: 'qa', env: 'prod' }, { team: 'ops', env: 'prod' }, { team: 'qa', env: 'prod' }]) await send(meta);
    const both = await logs('?metadata.team=qa&metadata.env=prod');
    expect(both.data).toHaveLength(3);
    expect(both.data.every((r) => r.metadata.team === 'qa' && r.metadata.env === 'prod')).toBe(true);
    // Newest first, two per page.
    const p1 = await logs(`?metadata.team=qa&key_id=${k.id}&limit=2`);
    expect(p1.data).toHaveLength(2);
    expect(p1.next_cursor).not.toBeNull();
    const p2 = await logs(`?metadata.team=qa&key_id=${k.id}&limit=2&cursor=${p1.next_cursor}`);
    const p3 = await logs(`?metadata.team=qa&key_id=${k.id}&limit=2&cursor=${p2.next_cursor}`);
    expect([...p1.data, ...p2.data, ...p3.data].map((r) => r.metadata.env)).toEqual(['prod', 'prod', 'dev', 'prod']);
    expect(p3.next_cursor).toBeNull();
    expect(p1.data[0]!.created_at >= p1.data[1]!.created_at).toBe(true);
    const bad = await gw.admin<{ error: { message: string } }>('GET', '/api/admin/logs?modle=x');
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/Unknown filter "modle"/);
  });

  it('a developer sees only their own rows', async () => {
    const mine = await gw.createKey({ name: 'mine' });
    const other = await gw.createKey({ name: 'other' });
    for (const key of [mine.key, other.key]) {
      await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-api-key': key }, body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }) }).then((r) => r.text());
    }
    const res = await fetch(`${gw.url}/api/me/logs`, { headers: { authorization: `Bearer ${mine.key}` } });
    const body = (await res.json()) as { data: LogRow[] };
    expect(body.data.length).toBe(1);
    expect(body.data[0]!.key_id).toBe(mine.id);
    const peek = await fetch(`${gw.url}/api/me/logs?key_id=${other.id}`, { headers: { authorization: `Bearer ${mine.key}` } });
    expect(peek.status).toBe(400);
  });
});
