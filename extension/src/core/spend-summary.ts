import type { BudgetView, Connection, LogEntry } from '../../../webview/src/protocol.js';
import { startOfLocalDay } from './me-api.js';

/**
 * What the status bar says: spend today and in the current Claude Code session, and how much of
 * the tightest budget is used, with a level that colours the item. Pure, so the thresholds and
 * the wording are unit-tested rather than looked at.
 */

export interface Totals {
  requests: number;
  /** Dollars of the priced rows; unpriced rows are counted apart, never as $0. */
  usd: number;
  unpriced: number;
  errors: number;
  tokens: { input: number; output: number; cacheRead: number; cacheWrite: number };
}

export interface BudgetShare {
  label: string;
  unit: BudgetView['unit'];
  spent: number;
  limit: number;
  /** spent / limit; 0 for a zero limit with nothing spent. */
  share: number;
  resetsAt: string | null;
}

export type Level = 'normal' | 'warning' | 'error';

export interface SpendSummary {
  today: Totals;
  session: Totals & { id: string | null };
  budgets: BudgetShare[];
  /** The largest share of any budget, or null when the key has none. */
  maxShare: number | null;
  level: Level;
}

export interface Thresholds {
  warnAt: number;
  errorAt: number;
}

function totals(rows: readonly LogEntry[]): Totals {
  const t: Totals = { requests: 0, usd: 0, unpriced: 0, errors: 0, tokens: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 } };
  for (const r of rows) {
    t.requests++;
    if (r.cost_usd === null) t.unpriced++;
    else t.usd += r.cost_usd;
    if (r.outcome !== 'ok') t.errors++;
    t.tokens.input += r.input_tokens;
    t.tokens.output += r.output_tokens;
    t.tokens.cacheRead += r.cache_read_input_tokens;
    t.tokens.cacheWrite += r.cache_creation_input_tokens;
  }
  return t;
}

export function summarise(rows: readonly LogEntry[], budgets: readonly BudgetView[], session: string | null, now: Date, th: Thresholds): SpendSummary {
  const since = startOfLocalDay(now);
  const today = rows.filter((r) => r.created_at >= since);
  const shares = budgets.map((b): BudgetShare => ({ label: b.label, unit: b.unit, spent: b.spent, limit: b.limit, share: b.limit > 0 ? b.spent / b.limit : b.spent > 0 ? Infinity : 0, resetsAt: b.resets_at }));
  const maxShare = shares.length ? Math.max(...shares.map((s) => s.share)) : null;
  const level: Level = maxShare === null ? 'normal' : maxShare >= th.errorAt ? 'error' : maxShare >= th.warnAt ? 'warning' : 'normal';
  return { today: totals(today), session: { id: session, ...totals(session ? rows.filter((r) => r.session_id === session) : []) }, budgets: shares, maxShare, level };
}

/** Cents, except below one: a day of small requests shows as $0.00012, not as nothing spent. */
export function usd(n: number): string {
  const r = Number(n.toPrecision(2));
  if (n === 0 || Math.abs(r) >= 0.01) return `$${n.toFixed(2)}`;
  return `$${r.toFixed(1 - Math.floor(Math.log10(Math.abs(r))))}`;
}

const pct = (share: number): string => (Number.isFinite(share) ? `${Math.round(share * 100)}%` : 'over');

const amount = (unit: BudgetView['unit'], n: number): string => (unit === 'usd' ? usd(n) : `${Math.round(n).toLocaleString('en-US')} tokens`);

/** `$(pulse) $1.23 today · $0.40 session · 42%` (codicons are VS Code's; the text is plain). */
export function statusText(s: SpendSummary, c: Connection): string {
  if (c.state === 'disconnected') return '$(plug) Connect Claude Code';
  if (c.state === 'offline') return '$(debug-disconnect) Gatehouse offline';
  const parts = [`${usd(s.today.usd)} today`];
  if (s.session.id) parts.push(`${usd(s.session.usd)} session`);
  if (s.maxShare !== null) parts.push(pct(s.maxShare));
  return `${c.state === 'connecting' ? '$(sync~spin)' : '$(pulse)'} ${parts.join(' · ')}`;
}

/** Markdown in text that comes from the gateway (labels, reasons); it only ever sits mid-line. */
const esc = (s: string): string => s.replace(/[\\`*_{}[\]()#!|<>]/g, '\\$&');

function totalsLine(t: Totals): string {
  const unpriced = t.unpriced ? ` + ${t.unpriced} unpriced` : '';
  const errors = t.errors ? `, ${t.errors} failed` : '';
  return `${usd(t.usd)}${unpriced} · ${t.requests} request${t.requests === 1 ? '' : 's'}${errors}`;
}

function tokensLine(t: Totals): string {
  const n = (x: number) => x.toLocaleString('en-US');
  return `input ${n(t.tokens.input)} · output ${n(t.tokens.output)} · cache read ${n(t.tokens.cacheRead)} · cache write ${n(t.tokens.cacheWrite)}`;
}

function connectionLine(c: Connection): string {
  switch (c.state) {
    case 'live':
      return '$(pass) Live';
    case 'connecting':
      return '$(sync) Connecting…';
    case 'disconnected':
      return 'Not connected';
    case 'offline':
      return `$(warning) Offline since ${esc(c.since)}: ${esc(c.reason)}${c.retryInS !== null ? ` Retrying in ${c.retryInS} s.` : ''} The figures are the last known.`;
  }
}

/** The tooltip (a MarkdownString's text; `$(icon)` needs supportThemeIcons). */
export function tooltipMarkdown(s: SpendSummary, c: Connection, gateway: string): string {
  const out = ['**Gatehouse**', ''];
  if (s.budgets.length) {
    out.push('**Budgets**', '');
    for (const b of s.budgets) out.push(`- ${esc(b.label)}: ${amount(b.unit, b.spent)} of ${amount(b.unit, b.limit)} (${pct(b.share)})${b.resetsAt ? `, resets ${esc(b.resetsAt)}` : ''}`);
  } else out.push('No budgets on this key.');
  out.push('', `**Today:** ${totalsLine(s.today)}`, '', `Tokens: ${tokensLine(s.today)}`, '');
  if (s.session.id) out.push(`**Session** \`${s.session.id.replace(/`/g, '')}\`: ${totalsLine(s.session)}`, '', `Tokens: ${tokensLine(s.session)}`, '');
  else out.push('No Claude Code session yet today.', '');
  out.push(`Gateway: ${esc(gateway)}`, '', connectionLine(c), '', 'Click to open the request log.');
  return out.join('\n');
}
