// The pure parts behind the extension's status bar, Copy Setup and the claudeCode.* settings:
// spend today / this session / budget share and the colour thresholds; the text Claude Desktop
// and Office need; and the settings merge that disconnect can undo exactly.
import { describe, expect, it } from 'vitest';
import type { BudgetView, LogEntry } from '../../webview/src/protocol.js';
import { planClaudeCodeSettings, restoredClaudeCodeSettings } from '../../extension/src/core/claude-code-settings.js';
import { composeSetup, setupHeaders } from '../../extension/src/core/copy-setup.js';
import { startOfLocalDay } from '../../extension/src/core/me-api.js';
import { statusText, summarise, tooltipMarkdown, usd } from '../../extension/src/core/spend-summary.js';

const NOW = new Date(2026, 10, 22, 15, 30);
const TH = { warnAt: 0.8, errorAt: 1 };

function row(id: string, o: Partial<LogEntry> = {}): LogEntry {
  return {
    id, created_at: new Date(2026, 10, 22, 10, 0).toISOString(), session_id: null, trace_id: null, workspace: 'default', key_id: 'key_1', metadata: {}, endpoint: 'messages', stream: true,
    model: 'claude-sonnet-5-5', served_model: 'claude-sonnet-5-5', provider: 'anthropic', route_path: null, retries: 0, cache_status: null, status: 200, outcome: 'ok', error_type: null,
    error_code: null, error_message: null, input_tokens: 100, output_tokens: 10, cache_read_input_tokens: 5, cache_creation_input_tokens: 1, usage_final: true, cost_usd: 0.25, latency_ms: 900,
    ttft_ms: 200, guardrails: [], ...o,
  };
}

function budget(spent: number, limit: number, o: Partial<BudgetView> = {}): BudgetView {
  return { scope: 'key:key_1', label: 'Key daily', unit: 'usd', limit, period: 'day', timezone: 'UTC', period_key: '2026-11-22', period_start: '2026-11-22T00:00:00.000Z', resets_at: '2026-11-23T00:00:00.000Z', spent, reserved: 0, remaining: limit - spent, ...o };
}

describe('spend summary', () => {
  const rows = [
    row('a', { session_id: 's1', cost_usd: 0.4 }),
    row('b', { session_id: 's2', cost_usd: 0.5, created_at: new Date(2026, 10, 22, 14, 0).toISOString() }),
    row('c', { session_id: 's2', cost_usd: null, outcome: 'error', status: 500 }),
    row('y', { created_at: new Date(2026, 10, 21, 23, 59).toISOString(), cost_usd: 9 }),
  ];

  it('counts today only (local midnight), and the current session apart; unpriced is never $0', () => {
    expect(startOfLocalDay(NOW)).toBe(new Date(2026, 10, 22).toISOString());
    const s = summarise(rows, [budget(4.2, 10)], 's2', NOW, TH);
    expect(s.today).toMatchObject({ requests: 3, usd: 0.9, unpriced: 1, errors: 1 });
    expect(s.today.tokens).toEqual({ input: 300, output: 30, cacheRead: 15, cacheWrite: 3 });
    expect(s.session).toMatchObject({ id: 's2', requests: 2, usd: 0.5, unpriced: 1 });
    expect(s.maxShare).toBeCloseTo(0.42);
    expect(statusText(s, { state: 'live', gateway: 'http://gw' })).toBe('$(pulse) $0.90 today · $0.50 session · 42%');
  });

  it.each([
    [[budget(7.9, 10)], 'normal'],
    [[budget(8, 10)], 'warning'],
    [[budget(1, 10), budget(10, 10, { scope: 'ws:default', label: 'Workspace monthly' })], 'error'],
    [[budget(1, 0)], 'error'],
    [[], 'normal'],
  ] as const)('colours by the fullest budget (%#)', (budgets, level) => {
    expect(summarise(rows, budgets, null, NOW, TH).level).toBe(level);
  });

  it('shows amounts under a cent to two significant digits, not as $0.00', () => {
    expect([0, 0.000122, 0.0049, 0.00999, 0.01, 1.234, 12].map(usd)).toEqual(['$0.00', '$0.00012', '$0.0049', '$0.01', '$0.01', '$1.23', '$12.00']);
  });

  it('leaves out the session and the share when there are none', () => {
    const s = summarise([], [], null, NOW, TH);
    expect(statusText(s, { state: 'live', gateway: 'http://gw' })).toBe('$(pulse) $0.00 today');
    expect(s.maxShare).toBeNull();
  });

  it('is honest offline: says so, keeps the last figures in the tooltip with the reason', () => {
    const s = summarise(rows, [budget(4.2, 10)], 's2', NOW, TH);
    const c = { state: 'offline' as const, since: '2026-11-22T15:00:00.000Z', reason: 'Connection refused: nothing answers at gw:8787.', retryInS: 5 };
    expect(statusText(s, c)).toBe('$(debug-disconnect) Gatehouse offline');
    const md = tooltipMarkdown(s, c, 'http://gw:8787');
    expect(md).toContain('Key daily: $4.20 of $10.00 (42%), resets 2026-11-23');
    expect(md).toContain('**Today:** $0.90 + 1 unpriced · 3 requests, 1 failed');
    expect(md).toContain('Tokens: input 300 · output 30 · cache read 15 · cache write 3');
    expect(md).toContain('**Session** `s2`: $0.50 + 1 unpriced · 2 requests');
    expect(md).toContain('Offline since');
    expect(md).toContain('Retrying in 5 s');
    expect(md).toContain('Connection refused: nothing answers at gw:8787.');
  });

  it('escapes markdown in what the gateway sends', () => {
    const md = tooltipMarkdown(summarise([], [budget(1, 10, { label: '[click](http://evil)' })], null, NOW, TH), { state: 'live', gateway: 'http://gw' }, 'http://gw');
    expect(md).toContain('\\[click\\]\\(http://evil\\)');
  });
});

describe('claudeCode.* settings', () => {
  const env = { ANTHROPIC_BASE_URL: 'https://gw', ANTHROPIC_AUTH_TOKEN: 'ghk_secret', ANTHROPIC_CUSTOM_HEADERS: 'x-portkey-metadata: {"user":"a"}', ANTHROPIC_DEFAULT_OPUS_MODEL: 'claude-opus-5-5' };

  it('adds ours after the developer\'s own entries, never the key, and remembers what was there', () => {
    const mine = [{ name: 'HTTPS_PROXY', value: 'http://proxy:3128' }, { name: 'ANTHROPIC_BASE_URL', value: 'https://old' }];
    const p = planClaudeCodeSettings({ environmentVariables: mine, disableLoginPrompt: false }, env, undefined);
    expect(p.environmentVariables).toEqual([
      { name: 'HTTPS_PROXY', value: 'http://proxy:3128' },
      { name: 'ANTHROPIC_BASE_URL', value: 'https://gw' },
      { name: 'ANTHROPIC_CUSTOM_HEADERS', value: 'x-portkey-metadata: {"user":"a"}' },
      { name: 'ANTHROPIC_DEFAULT_OPUS_MODEL', value: 'claude-opus-5-5' },
    ]);
    expect(JSON.stringify(p)).not.toContain('ghk_secret');
    expect(p.disableLoginPrompt).toBe(true);
    expect(restoredClaudeCodeSettings(p.memo)).toEqual({ environmentVariables: mine, disableLoginPrompt: false });
  });

  it('connecting again keeps the first memo, and a dropped variable goes back to its first value', () => {
    const mine = [{ name: 'ANTHROPIC_DEFAULT_OPUS_MODEL', value: 'my-opus' }];
    const first = planClaudeCodeSettings({ environmentVariables: mine, disableLoginPrompt: undefined }, env, undefined);
    const again = planClaudeCodeSettings({ environmentVariables: first.environmentVariables, disableLoginPrompt: true }, env, first.memo);
    expect(again.environmentVariables).toEqual(first.environmentVariables);
    expect(again.memo).toEqual(first.memo);
    const { ANTHROPIC_DEFAULT_OPUS_MODEL: _dropped, ...fewer } = env;
    const later = planClaudeCodeSettings({ environmentVariables: again.environmentVariables, disableLoginPrompt: true }, fewer, again.memo);
    expect(later.environmentVariables.find((e) => e.name === 'ANTHROPIC_DEFAULT_OPUS_MODEL')).toEqual({ name: 'ANTHROPIC_DEFAULT_OPUS_MODEL', value: 'my-opus' });
    expect(restoredClaudeCodeSettings(later.memo)).toEqual({ environmentVariables: mine, disableLoginPrompt: undefined });
  });

  it('restores "not set" as not set', () => {
    const p = planClaudeCodeSettings({ environmentVariables: undefined, disableLoginPrompt: undefined }, env, undefined);
    expect(restoredClaudeCodeSettings(p.memo)).toEqual({ environmentVariables: undefined, disableLoginPrompt: undefined });
  });
});

describe('Copy Setup text', () => {
  const headers = setupHeaders({ user: 'dev@acme.com', team: 'eng' }, { 'x-portkey-config': 'desktop-eng-prod' });
  const input = { url: 'https://gatehouse.acme.com', key: 'ghk_0123456789abcdef', headers };

  it('gives Claude Desktop its gateway fields, auth scheme bearer and the extra headers', () => {
    const s = composeSetup('desktop', input);
    expect(s.text).toContain('Gateway base URL: https://gatehouse.acme.com');
    expect(s.text).toContain('Gateway API key: ghk_0123456789abcdef');
    expect(s.text).toContain('Gateway auth scheme: bearer');
    expect(s.text).toContain('Header name: x-portkey-metadata\n  Header value: {"user":"dev@acme.com","team":"eng"}');
    expect(s.text).toContain('Header name: x-portkey-config');
    expect(s.text).toContain('fully quit Claude Desktop');
    expect(s.summary).not.toContain('ghk_0123456789abcdef');
    expect(s.summary).toContain('ghk_012345…');
  });

  it('gives Office its gateway URL and token, and says the metadata has to be on the key', () => {
    const s = composeSetup('office', input);
    expect(s.text).toContain('Gateway URL: https://gatehouse.acme.com');
    expect(s.text).toContain('API token: ghk_0123456789abcdef');
    expect(s.text).toContain('cannot be set here');
    expect(s.summary).not.toContain('ghk_0123456789abcdef');
    expect(composeSetup('office', { ...input, headers: [] }).text).not.toContain('cannot be set here');
  });
});
