import type { LogEntry } from './protocol.js';

/** Display text for log values. Pure, so the aggregation tests and the DOM code agree on it. */

const INT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const COMPACT = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });

export function formatInt(n: number): string {
  return INT.format(n);
}

export function formatCompact(n: number): string {
  return n < 1000 ? INT.format(n) : COMPACT.format(n);
}

/** Null is "unpriced": a model without a price must never read as free. */
export function formatCost(usd: number | null): string {
  if (usd === null) return 'unpriced';
  // Four decimals: a single Haiku turn costs fractions of a cent, and "$0.00" would hide it.
  return `$${usd >= 100 ? usd.toFixed(2) : usd.toFixed(4)}`;
}

/** Cost of a set of rows, honest about the ones without a price. */
export function formatCostTotal(usd: number, unpriced: number): string {
  const priced = formatCost(usd);
  return unpriced > 0 ? `${priced} + ${unpriced} unpriced` : priced;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

const clocks = new Map<string, Intl.DateTimeFormat>();

/**
 * A formatter for the time zone, or for the browser's own when the host sends a zone this
 * Intl does not know (an empty or made-up string must not blank the whole view).
 */
export function zonedFormat(timeZone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${timeZone}|${JSON.stringify(options)}`;
  let f = clocks.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', options);
    }
    clocks.set(key, f);
  }
  return f;
}

const HMS: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' };
const HM: Intl.DateTimeFormatOptions = { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };
const DAY_HM: Intl.DateTimeFormatOptions = { weekday: 'short', day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' };

export function formatClock(iso: string, timeZone: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : zonedFormat(timeZone, HMS).format(d);
}

export function formatHm(iso: string, timeZone: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? '—' : zonedFormat(timeZone, HM).format(d);
}

/** "at 00:00" when the moment is within a day, else with its date: a budget reset next month needs it. */
export function formatWhen(iso: string, timeZone: string, now: Date): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  const within = d.getTime() - now.getTime() < 24 * 3600_000;
  return within ? zonedFormat(timeZone, HM).format(d) : zonedFormat(timeZone, DAY_HM).format(d);
}

export function modelLabel(r: Pick<LogEntry, 'model' | 'served_model'> & Partial<Pick<LogEntry, 'endpoint'>>): string {
  if (r.served_model && r.model && r.served_model !== r.model) return `${r.model} → ${r.served_model}`;
  // Requests without a model are Claude Code's model list and similar calls: say which.
  return r.served_model ?? r.model ?? (r.endpoint && r.endpoint !== 'messages' ? `(${r.endpoint.replace('_', ' ')})` : '—');
}

export function outcomeText(outcome: LogEntry['outcome']): string {
  return outcome.replace(/_/g, ' ');
}

export function statusLabel(r: Pick<LogEntry, 'status' | 'outcome'>): string {
  return `${r.status} ${outcomeText(r.outcome)}`;
}

/** Session ids are UUIDs; the first block tells them apart in one panel. */
export function shortSession(id: string | null): string {
  if (id === null) return 'No session';
  return `Session ${id.length > 8 ? id.slice(0, 8) : id}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatInt(n)} ${n === 1 ? one : many}`;
}
