import { zonedFormat } from './format.js';
import type { LogEntry } from './protocol.js';

/** Grouping, totals, filters and today's hours: pure functions over log entries, no DOM. */

export interface Totals {
  requests: number;
  errors: number;
  tokens: number;
  /** Of the priced rows only. */
  cost: number;
  unpriced: number;
}

export function emptyTotals(): Totals {
  return { requests: 0, errors: 0, tokens: 0, cost: 0, unpriced: 0 };
}

export function tokensOf(r: LogEntry): number {
  return r.input_tokens + r.output_tokens + r.cache_read_input_tokens + r.cache_creation_input_tokens;
}

export function isError(r: Pick<LogEntry, 'status' | 'outcome'>): boolean {
  return r.outcome !== 'ok' || r.status >= 400;
}

export function addTo(t: Totals, r: LogEntry): Totals {
  t.requests += 1;
  if (isError(r)) t.errors += 1;
  t.tokens += tokensOf(r);
  if (r.cost_usd === null) t.unpriced += 1;
  else t.cost += r.cost_usd;
  return t;
}

export function totalsOf(rows: Iterable<LogEntry>): Totals {
  const t = emptyTotals();
  for (const r of rows) addTo(t, r);
  return t;
}

/** Group key of a session; `none` cannot collide with a real id, which always gets the prefix. */
export function sessionKey(id: string | null): string {
  return id === null ? 'none' : `s:${id}`;
}

/** Newest first; ISO-8601 UTC strings of one format sort by text, and the id breaks ties stably. */
export function newestFirst(a: Pick<LogEntry, 'created_at' | 'id'>, b: Pick<LogEntry, 'created_at' | 'id'>): number {
  if (a.created_at !== b.created_at) return a.created_at < b.created_at ? 1 : -1;
  return a.id < b.id ? 1 : a.id > b.id ? -1 : 0;
}

export interface SessionGroup {
  key: string;
  sessionId: string | null;
  /** Newest first. */
  rows: LogEntry[];
}

/** Groups ordered by their newest request, so the session being worked in stays on top. */
export function groupBySession(rows: readonly LogEntry[]): SessionGroup[] {
  const byKey = new Map<string, SessionGroup>();
  for (const r of rows) {
    const key = sessionKey(r.session_id);
    let g = byKey.get(key);
    if (!g) byKey.set(key, (g = { key, sessionId: r.session_id, rows: [] }));
    g.rows.push(r);
  }
  const groups = [...byKey.values()];
  for (const g of groups) g.rows.sort(newestFirst);
  return groups.sort((a, b) => newestFirst(a.rows[0]!, b.rows[0]!));
}

export type StatusFilter = 'all' | 'ok' | 'errors';

export interface Filter {
  text: string;
  /** '' for any; matches the asked or the served model. */
  model: string;
  status: StatusFilter;
  /** '' for any, else a `sessionKey`. */
  session: string;
}

export const NO_FILTER: Filter = { text: '', model: '', status: 'all', session: '' };

export function isFiltering(f: Filter): boolean {
  return f.text.trim() !== '' || f.model !== '' || f.status !== 'all' || f.session !== '';
}

export function matchesFilter(r: LogEntry, f: Filter): boolean {
  if (f.model !== '' && r.model !== f.model && r.served_model !== f.model) return false;
  if (f.status === 'ok' && isError(r)) return false;
  if (f.status === 'errors' && !isError(r)) return false;
  if (f.session !== '' && sessionKey(r.session_id) !== f.session) return false;
  const needle = f.text.trim().toLowerCase();
  if (needle === '') return true;
  const hay = [r.model, r.served_model, r.session_id, r.error_message, r.error_type, r.error_code, r.id, ...Object.values(r.metadata)];
  return hay.some((v) => v !== null && v.toLowerCase().includes(needle));
}

export interface Placed {
  /** YYYY-MM-DD in the zone. */
  day: string;
  hour: number;
}

/**
 * Where an instant falls on the developer's clock. Memoised by timestamp: the chart and the
 * header re-sum today on every live row, and Intl formatting is the expensive part.
 */
export class ZonedClock {
  readonly #cache = new Map<string, Placed | null>();
  readonly #format: Intl.DateTimeFormat;

  constructor(readonly timeZone: string) {
    this.#format = zonedFormat(timeZone, { year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', hourCycle: 'h23' });
  }

  placeDate(d: Date): Placed | null {
    if (Number.isNaN(d.getTime())) return null;
    const parts: Record<string, string> = {};
    for (const p of this.#format.formatToParts(d)) parts[p.type] = p.value;
    return { day: `${parts.year}-${parts.month}-${parts.day}`, hour: Number(parts.hour) % 24 };
  }

  place(iso: string): Placed | null {
    let p = this.#cache.get(iso);
    if (p === undefined) {
      p = this.placeDate(new Date(iso));
      this.#cache.set(iso, p);
    }
    return p;
  }
}

export interface HourBucket {
  hour: number;
  cost: number;
  requests: number;
  unpriced: number;
}

export interface Today {
  day: string;
  hours: HourBucket[];
  totals: Totals;
}

/** Today's rows (in the zone) by hour of the day; always 24 buckets, so the chart has a fixed shape. */
export function today(rows: Iterable<LogEntry>, clock: ZonedClock, now: Date): Today {
  const day = clock.placeDate(now)?.day ?? '';
  const hours: HourBucket[] = Array.from({ length: 24 }, (_, hour) => ({ hour, cost: 0, requests: 0, unpriced: 0 }));
  const totals = emptyTotals();
  for (const r of rows) {
    const p = clock.place(r.created_at);
    if (!p || p.day !== day) continue;
    const b = hours[p.hour]!;
    b.requests += 1;
    if (r.cost_usd === null) b.unpriced += 1;
    else b.cost += r.cost_usd;
    addTo(totals, r);
  }
  return { day, hours, totals };
}
