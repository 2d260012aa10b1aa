import type { BudgetView } from '../../gateway/src/api/schemas.js';

/**
 * The messages between the extension host (extension/src/log-view.ts) and the log webview
 * (webview/src/main.ts). Both sides import these types, so a renamed field fails the typecheck
 * of both. No `vscode` and no DOM here: the file is shared by a Node host and a browser app.
 */

export type { BudgetView };

/**
 * One request, as `/api/me/logs` and the `request.finish` event give it (gateway/src/observe/log-row.ts
 * `LogRow`; test/gateway/webview-protocol.test.ts checks that a LogRow fits this shape). Only the
 * fields the view shows are listed; the gateway sends more.
 */
export interface LogEntry {
  id: string;
  created_at: string;
  session_id: string | null;
  trace_id: string | null;
  workspace: string | null;
  key_id: string | null;
  metadata: Record<string, string>;
  endpoint: string;
  stream: boolean;
  model: string | null;
  served_model: string | null;
  provider: string | null;
  route_path: string | null;
  retries: number;
  cache_status: string | null;
  status: number;
  outcome: 'ok' | 'error' | 'client_gone' | 'upstream_failed' | 'budget_cut';
  error_type: string | null;
  error_code: string | null;
  error_message: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  usage_final: boolean;
  /** Null when the model has no price: shown as "unpriced", never as $0. */
  cost_usd: number | null;
  latency_ms: number;
  ttft_ms: number | null;
  guardrails: Array<{ id: string; type: string; action: string; findings?: unknown }>;
}

/** A request that has started and not yet finished (the `request.start` event). */
export interface InFlight {
  id: string;
  created_at: string;
  model: string | null;
  stream: boolean;
  endpoint: string;
}

/**
 * Where the live feed stands. `offline` is honest: the gateway cannot be reached (or refused the
 * key) and what is shown is the last known state, with `since` saying from when.
 */
export type Connection =
  | { state: 'connecting' }
  | { state: 'live'; gateway: string }
  | { state: 'offline'; since: string; reason: string; retryInS: number | null }
  | { state: 'disconnected' };

/** What the view shows when it (re)opens: everything it needs, so it keeps no state of its own that matters. */
export interface Snapshot {
  connection: Connection;
  /** Newest first; today's rows of this key (at most a few thousand). */
  rows: LogEntry[];
  inFlight: InFlight[];
  budgets: BudgetView[];
  /** The session of the newest Claude Code request, for "this session" totals. */
  currentSession: string | null;
  /** The developer's time zone offset, so "today" and the chart's hours match the status bar. */
  timeZone: string;
}

/** Host → webview. */
export type HostMessage =
  | { type: 'snapshot'; snapshot: Snapshot }
  | { type: 'row'; row: LogEntry }
  | { type: 'start'; start: InFlight }
  | { type: 'budgets'; budgets: BudgetView[] }
  | { type: 'connection'; connection: Connection }
  | { type: 'detail'; id: string; bodies: { request?: unknown; response?: unknown } | null; error?: string };

/** Webview → host. */
export type ViewMessage =
  | { type: 'ready' }
  | { type: 'refresh' }
  /** Ask for the logged bodies of one request (there are none when the workspace logs no bodies). */
  | { type: 'detail'; id: string }
  | { type: 'openSettings' };

export function isViewMessage(v: unknown): v is ViewMessage {
  if (typeof v !== 'object' || v === null) return false;
  const t = (v as { type?: unknown }).type;
  if (t === 'detail') return typeof (v as { id?: unknown }).id === 'string';
  return t === 'ready' || t === 'refresh' || t === 'openSettings';
}
