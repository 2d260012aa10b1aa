// Prometheus metrics as a scraper sees them: real requests through a real gateway, then
// `GET /metrics` parsed and read back. Counters are cumulative over the suite, so each test
// compares a scrape before with one after.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { parsePrometheus, sumOf, type Sample } from '../helpers/prometheus.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    anthropicConfig(emu.url, {
      workspaces: { eng: { budget: { usd: 5, period: 'month' } } },
      // One failure opens the circuit, so a single 500 shows on the gauge.
      routing: { circuit_breaker: { failure_threshold: 1, cooldown_ms: 60_000 } },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey },
  );
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

async function scrape(): Promise<Sample[]> {
  const res = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
  expect(res.status).toBe(200);
  return parsePrometheus(await res.text());
}

function post(key: string | undefined, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', ...(key ? { 'x-api-key': key } : {}), ...headers },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'hi' }], ...body }),
  });
}

const SONNET = { provider: 'anthropic', model: 'claude-sonnet-5-5' };

describe('request counters', () => {
  it('counts requests by status and outcome, with the tokens and cost the provider reported', async () => {
    const k = await gw.createKey({ name: 'metered', workspace: 'eng' });
    const before = await scrape();
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'hello' }], usage: { input_tokens: 100, output_tokens: 20 } });
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'hello' }], usage: { input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 1000 } });
    expect((await (await post(k.key, {})).json()) as object).toMatchObject({ type: 'message' });
    const streamed = await post(k.key, { stream: true }, { 'x-portkey-metadata': '{"user":"meta-value-ann"}' });
    expect(await streamed.text()).toContain('message_stop');
    const anon = await post(undefined, {});
    expect(anon.status).toBe(401);
    await anon.text();
    const after = await scrape();
    const delta = (name: string, labels: Record<string, string> = {}) => sumOf(after, name, labels) - sumOf(before, name, labels);

    expect(delta('gatehouse_requests_total', { ...SONNET, endpoint: 'messages', status: '200', outcome: 'ok', workspace: 'eng' })).toBe(2);
    expect(delta('gatehouse_requests_total', { endpoint: 'messages', provider: 'none', status: '401', outcome: 'error', workspace: 'none' })).toBe(1);
    expect(delta('gatehouse_tokens_total', { ...SONNET, kind: 'input' })).toBe(200);
    expect(delta('gatehouse_tokens_total', { ...SONNET, kind: 'output' })).toBe(40);
    expect(delta('gatehouse_tokens_total', { ...SONNET, kind: 'cache_read' })).toBe(1000);
    expect(delta('gatehouse_tokens_total', { ...SONNET, kind: 'cache_write' })).toBe(0);
    // Sonnet 5.5: $2 in, $10 out, $0.10 cache read per million tokens.
    expect(delta('gatehouse_cost_usd_total', { ...SONNET, workspace: 'eng' })).toBeCloseTo((200 * 2 + 40 * 10 + 1000 * 0.1) / 1e6, 12);
    expect(delta('gatehouse_time_to_first_token_seconds_count', SONNET)).toBe(2);
    expect(delta('gatehouse_request_duration_seconds_count', { endpoint: 'messages', provider: 'anthropic', stream: 'true' })).toBe(1);
    expect(delta('gatehouse_request_duration_seconds_count', { endpoint: 'messages', provider: 'none', stream: 'false' })).toBe(1);
    // Nothing is left in flight, and the 401 (which never started) did not push the gauge below zero.
    expect(sumOf(after, 'gatehouse_inflight_requests')).toBe(0);
    // Labels never carry metadata values or secrets.
    const text = JSON.stringify(after);
    expect(text).not.toContain('meta-value-ann');
    expect(text).not.toContain(k.key);
  });

  it('counts a model without a price as unpriced, never as $0', async () => {
    const k = await gw.createKey({ name: 'unpriced' });
    const before = await scrape();
    emu.enqueue({ kind: 'message', model: 'claude-unknown-9', usage: { input_tokens: 10, output_tokens: 5 } });
    await (await post(k.key, { model: 'claude-unknown-9' })).text();
    const after = await scrape();
    expect(sumOf(after, 'gatehouse_unpriced_requests_total', { model: 'claude-unknown-9' }) - sumOf(before, 'gatehouse_unpriced_requests_total', { model: 'claude-unknown-9' })).toBe(1);
    expect(sumOf(after, 'gatehouse_cost_usd_total', { model: 'claude-unknown-9' })).toBe(0);
  });

  it('tracks a request in flight until its row is stored, even when the client walks away', async () => {
    const k = await gw.createKey({ name: 'inflight' });
    emu.enqueue({ kind: 'stall', afterEvents: 2 });
    const res = await post(k.key, { stream: true });
    const reader = res.body!.getReader();
    await reader.read();
    expect(sumOf(await scrape(), 'gatehouse_inflight_requests')).toBe(1);
    await reader.cancel();
    // The gateway learns of the cancel asynchronously.
    await expect.poll(async () => sumOf(await scrape(), 'gatehouse_inflight_requests')).toBe(0);
    expect(sumOf(await scrape(), 'gatehouse_requests_total', { outcome: 'client_gone' })).toBeGreaterThanOrEqual(1);
  });
});

describe('state read at scrape time', () => {
  it("reports what a key's and a workspace's budget have left, and the alerts it crossed", async () => {
    const k = await gw.createKey({ name: 'budgeted', workspace: 'eng', budget_usd: 0.001 });
    const scope = { scope: `key:${k.id}`, unit: 'usd', period: 'month' };
    const before = await scrape();
    expect(sumOf(before, 'gatehouse_budget_remaining', scope)).toBe(0.001);
    expect(sumOf(before, 'gatehouse_budget_remaining', { scope: 'ws:eng', unit: 'usd', period: 'month' })).toBeGreaterThan(4.99);
    // $0.0008 of $0.001: past the 50 % and 80 % thresholds.
    emu.enqueue({ kind: 'message', usage: { input_tokens: 100, output_tokens: 60 } });
    expect((await post(k.key, {})).status).toBe(200);
    expect(sumOf(await scrape(), 'gatehouse_budget_remaining', scope)).toBeCloseTo(0.0002, 12);
    // Alerts are claimed in the store off the request path.
    await expect.poll(async () => sumOf(await scrape(), 'gatehouse_budget_alerts_total', { unit: 'usd', threshold: '80' }) - sumOf(before, 'gatehouse_budget_alerts_total', { unit: 'usd', threshold: '80' })).toBe(1);
    expect(sumOf(await scrape(), 'gatehouse_budget_alerts_total', { unit: 'usd', threshold: '50' }) - sumOf(before, 'gatehouse_budget_alerts_total', { unit: 'usd', threshold: '50' })).toBe(1);
  });

  it('counts an upstream 500 and shows the circuit it opened', async () => {
    const k = await gw.createKey({ name: 'failing' });
    const before = await scrape();
    expect(sumOf(before, 'gatehouse_circuit_open', { provider: 'anthropic' })).toBe(0);
    emu.enqueue({ kind: 'status', status: 500 });
    const res = await post(k.key, {});
    expect(res.status).toBe(500);
    await res.text();
    const after = await scrape();
    expect(sumOf(after, 'gatehouse_upstream_errors_total', { provider: 'anthropic' }) - sumOf(before, 'gatehouse_upstream_errors_total', { provider: 'anthropic' })).toBe(1);
    expect(sumOf(after, 'gatehouse_requests_total', { provider: 'anthropic', status: '500' }) - sumOf(before, 'gatehouse_requests_total', { provider: 'anthropic', status: '500' })).toBe(1);
    expect(sumOf(after, 'gatehouse_circuit_open', { provider: 'anthropic' })).toBe(1);
    // A success closes it again.
    await (await post(k.key, {})).text();
    expect(sumOf(await scrape(), 'gatehouse_circuit_open', { provider: 'anthropic' })).toBe(0);
  });
});

describe('access', () => {
  it('needs the admin key, answered in the Anthropic error envelope', async () => {
    const none = await fetch(`${gw.url}/metrics`);
    expect(none.status).toBe(401);
    expect(await none.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    const dev = await gw.createKey({ name: 'dev' });
    expect((await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${dev.key}` } })).status).toBe(401);
    const ok = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${gw.adminKey}` } });
    expect(ok.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    // Process metrics come along.
    expect(parsePrometheus(await ok.text()).some((s) => s.name === 'process_cpu_user_seconds_total')).toBe(true);
  });

  it('is open to anyone with server.metrics_public', async () => {
    const open = await startGateway(anthropicConfig(emu.url, { server: { metrics_public: true } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
    try {
      const res = await fetch(`${open.url}/metrics`);
      expect(res.status).toBe(200);
      expect(parsePrometheus(await res.text()).some((s) => s.name === 'gatehouse_inflight_requests')).toBe(true);
    } finally {
      await open.close();
    }
  });
});
