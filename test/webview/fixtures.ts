import type { BudgetView, LogEntry, Snapshot } from '../../webview/src/protocol.js';

/** Realistic log rows for the webview tests: two Claude Code sessions, an error, a guardrail, an unpriced model. */

export const TZ = 'Europe/Berlin';
/** 14:30 in Berlin (UTC+1 in March). */
export const NOW = '2025-03-04T13:30:00.000Z';
export const SESSION_A = 'a1b2c3d4-5e6f-4a1b-9c2d-0e1f2a3b4c5d';
export const SESSION_B = 'f9e8d7c6-b5a4-4c3d-8e2f-1a0b9c8d7e6f';

export function entry(over: Partial<LogEntry> & Pick<LogEntry, 'id' | 'created_at'>): LogEntry {
  return {
    session_id: SESSION_A,
    trace_id: null,
    workspace: 'default',
    key_id: 'key_dana',
    metadata: {},
    endpoint: 'messages',
    stream: true,
    model: 'claude-sonnet-4-5',
    served_model: 'claude-sonnet-4-5',
    provider: 'anthropic',
    route_path: 'config',
    retries: 0,
    cache_status: null,
    status: 200,
    outcome: 'ok',
    error_type: null,
    error_code: null,
    error_message: null,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    usage_final: true,
    cost_usd: 0,
    latency_ms: 0,
    ttft_ms: null,
    guardrails: [],
    ...over,
  };
}

export function rows(): LogEntry[] {
  return [
    entry({
      id: 'req_a3', created_at: '2025-03-04T13:20:05.000Z', trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      metadata: { user: 'dana', ticket: 'GH-1234' }, input_tokens: 1200, output_tokens: 350,
      cache_read_input_tokens: 42000, cache_creation_input_tokens: 1800, cost_usd: 0.0312, latency_ms: 4210, ttft_ms: 820,
      guardrails: [{ id: 'pii', type: 'regex', action: 'redact' }],
    }),
    entry({
      id: 'req_a2', created_at: '2025-03-04T13:12:40.000Z', model: 'claude-opus-4-1', served_model: 'claude-sonnet-4-5',
      provider: 'bedrock', route_path: 'config.targets[1]', retries: 2, status: 529, outcome: 'upstream_failed',
      error_type: 'overloaded_error', error_code: 'upstream_overloaded', error_message: 'Overloaded: every target failed',
      cost_usd: 0, latency_ms: 9120, ttft_ms: null, stream: false,
    }),
    entry({
      id: 'req_a1', created_at: '2025-03-04T13:05:00.000Z', input_tokens: 800, output_tokens: 120,
      cache_creation_input_tokens: 30000, cost_usd: 0.0105, latency_ms: 2100, ttft_ms: 640, cache_status: 'MISS',
    }),
    entry({
      id: 'req_b2', created_at: '2025-03-04T12:40:10.000Z', session_id: SESSION_B, model: 'claude-haiku-4-5', served_model: 'claude-haiku-4-5',
      input_tokens: 300, output_tokens: 40, cost_usd: 0.0021, latency_ms: 610, ttft_ms: 290,
    }),
    entry({
      id: 'req_b1', created_at: '2025-03-04T12:35:00.000Z', session_id: SESSION_B, model: 'qwen-coder-local', served_model: 'qwen-coder-local',
      provider: 'ollama', input_tokens: 500, output_tokens: 90, cost_usd: null, latency_ms: 1300, ttft_ms: 400,
    }),
    entry({
      id: 'req_n1', created_at: '2025-03-04T12:10:00.000Z', session_id: null, endpoint: 'count_tokens', stream: false,
      model: 'claude-haiku-4-5', served_model: 'claude-haiku-4-5', input_tokens: 150, cost_usd: 0, latency_ms: 95,
    }),
  ];
}

export function budgets(): BudgetView[] {
  return [
    {
      scope: 'key:key_dana', label: 'Daily', unit: 'usd', limit: 5, period: 'day', timezone: TZ, period_key: '2025-03-04',
      period_start: '2025-03-03T23:00:00.000Z', resets_at: '2025-03-04T23:00:00.000Z', spent: 3.1, reserved: 0.4, remaining: 1.5,
    },
    {
      scope: 'team:platform', label: 'Team monthly', unit: 'usd', limit: 500, period: 'month', timezone: TZ, period_key: '2025-03',
      period_start: '2025-02-28T23:00:00.000Z', resets_at: '2025-03-31T22:00:00.000Z', spent: 122.5, reserved: 0, remaining: 377.5,
    },
  ];
}

export function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    connection: { state: 'live', gateway: 'http://127.0.0.1:8787' },
    rows: rows(),
    inFlight: [],
    budgets: budgets(),
    currentSession: SESSION_A,
    timeZone: TZ,
    ...over,
  };
}
