import { NO_FILTER, type Filter, type StatusFilter } from './aggregate.js';
import type { HostMessage, ViewMessage } from './protocol.js';

/** The slice of VS Code's webview API this app uses (`acquireVsCodeApi()`; callable once). */
export interface VsCodeApi {
  postMessage(message: ViewMessage): void;
  getState(): unknown;
  setState(state: ViewState): void;
}

/**
 * What survives the panel being hidden and shown again (VS Code destroys a hidden webview's
 * document): the user's choices, not the data, which the host re-sends in a snapshot.
 */
export interface ViewState {
  filter: Filter;
  /** Session keys of collapsed groups. */
  collapsed: string[];
  selected: string | null;
  detailOpen: boolean;
}

const STATUSES: readonly StatusFilter[] = ['all', 'ok', 'errors'];

function str(v: unknown, fallback = ''): string {
  return typeof v === 'string' ? v : fallback;
}

/** Stored state comes from an older build too; anything unexpected falls back to the default. */
export function readViewState(raw: unknown): ViewState {
  const o = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>) : {};
  const f = typeof o.filter === 'object' && o.filter !== null ? (o.filter as Record<string, unknown>) : {};
  const status = STATUSES.find((s) => s === f.status) ?? NO_FILTER.status;
  return {
    filter: { text: str(f.text), model: str(f.model), status, session: str(f.session) },
    collapsed: Array.isArray(o.collapsed) ? o.collapsed.filter((k): k is string => typeof k === 'string') : [],
    selected: typeof o.selected === 'string' ? o.selected : null,
    detailOpen: o.detailOpen === true,
  };
}

const HOST_TYPES: ReadonlySet<string> = new Set(['snapshot', 'row', 'start', 'budgets', 'connection', 'detail']);

/**
 * Checks the discriminant on arrival: a webview's window also receives messages that are not
 * the host's (VS Code's own frames post to it), and those must be ignored, not crash a handler.
 */
export function isHostMessage(v: unknown): v is HostMessage {
  if (typeof v !== 'object' || v === null) return false;
  const t = (v as { type?: unknown }).type;
  return typeof t === 'string' && HOST_TYPES.has(t);
}
