// The log webview's row type (webview/src/protocol.ts LogEntry) is a hand-kept subset of the
// gateway's LogRow, because the browser bundle cannot import the gateway's server types. Two
// guards keep them together: the assignment below fails the typecheck when LogRow drops or
// retypes a field the view reads, and the test checks that a real row from /api/me/logs (what the
// extension forwards) carries every one of those fields.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import type { LogEntry } from '../../webview/src/protocol.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

export const asEntry = (row: LogRow): LogEntry => row;

// Exhaustive by type: adding a field to LogEntry without listing it here fails the typecheck.
const FIELDS: Record<keyof LogEntry, true> = {
  id: true, created_at: true, session_id: true, trace_id: true, workspace: true, key_id: true, metadata: true, endpoint: true, stream: true,
  model: true, served_model: true, provider: true, route_path: true, retries: true, cache_status: true, status: true, outcome: true,
  error_type: true, error_code: true, error_message: true, input_tokens: true, output_tokens: true, cache_read_input_tokens: true,
  cache_creation_input_tokens: true, usage_final: true, cost_usd: true, latency_ms: true, ttft_ms: true, guardrails: true,
};

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

describe('the webview protocol against real log rows', () => {
  it('a row of /api/me/logs has every field the log view reads', async () => {
    const { key } = await gw.createKey({ name: 'view' });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, 'x-claude-code-session-id': '9e1f0c52-8a41-4c1e-9d5b-0f6a2f4e7b10' },
      body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    await res.text();
    let rows: Array<Record<string, unknown>> = [];
    await expect
      .poll(async () => {
        const r = await fetch(`${gw.url}/api/me/logs`, { headers: { authorization: `Bearer ${key}` } });
        rows = ((await r.json()) as { data: Array<Record<string, unknown>> }).data;
        return rows.length;
      })
      .toBe(1);
    const missing = Object.keys(FIELDS).filter((f) => !(f in rows[0]!));
    expect(missing).toEqual([]);
    expect(rows[0]).toMatchObject({ session_id: '9e1f0c52-8a41-4c1e-9d5b-0f6a2f4e7b10', endpoint: 'messages', status: 200, outcome: 'ok' });
  });
});
