import { isError } from './aggregate.js';
import { el } from './dom.js';
import { formatClock, formatCost, formatInt, modelLabel, outcomeText } from './format.js';
import type { InFlight, LogEntry } from './protocol.js';

/** The table's columns; `num` columns are right-aligned with tabular figures. */
export const COLUMNS: ReadonlyArray<{ label: string; cls: string; num?: boolean; title?: string }> = [
  { label: 'Time', cls: 'c-time' },
  { label: 'Model', cls: 'c-model' },
  { label: 'Input', cls: 'c-tok', num: true, title: 'Input tokens' },
  { label: 'Output', cls: 'c-tok', num: true, title: 'Output tokens' },
  { label: 'Cache read', cls: 'c-cache', num: true, title: 'Cache read input tokens' },
  { label: 'Cache write', cls: 'c-cache', num: true, title: 'Cache creation input tokens' },
  { label: 'Cost', cls: 'c-cost', num: true },
  { label: 'Latency ms', cls: 'c-ms', num: true, title: 'Total latency in milliseconds' },
  { label: 'TTFT ms', cls: 'c-ms', num: true, title: 'Time to first byte in milliseconds' },
  { label: 'Status', cls: 'c-status' },
  { label: 'Guardrails', cls: 'c-guard' },
];

function num(n: number | null): HTMLTableCellElement {
  if (n === null) return el('td', 'num muted', '—');
  return el('td', n === 0 ? 'num zero' : 'num', formatInt(n));
}

function rowShell(id: string, createdAt: string, extra: string): HTMLTableRowElement {
  const tr = el('tr', `row nav-item${extra}`, null, { tabindex: -1, 'aria-selected': 'false', 'data-id': id });
  // Kept on the element so a live insert can find its place without a lookup.
  tr.dataset.created = createdAt;
  return tr;
}

function guardBadges(r: LogEntry): HTMLTableCellElement {
  const td = el('td', 'guard');
  for (const g of r.guardrails) {
    const cls = g.action === 'deny' ? 'badge badge-deny' : 'badge';
    td.appendChild(el('span', cls, `${g.id} · ${g.action}`, { title: `${g.type} guardrail "${g.id}": ${g.action}` }));
  }
  return td;
}

export function renderRow(r: LogEntry, timeZone: string): HTMLTableRowElement {
  const failed = isError(r);
  const tr = rowShell(r.id, r.created_at, failed ? ' is-error' : '');
  const model = modelLabel(r);
  const status = el('td', failed ? 'status err' : 'status');
  // The word, not only the colour, says it failed (colour-blind users, high-contrast themes).
  status.appendChild(el('span', 'code', String(r.status)));
  status.appendChild(el('span', 'outcome', failed ? outcomeText(r.outcome === 'ok' ? 'error' : r.outcome) : 'ok'));
  if (r.error_message) status.title = r.error_message;
  const cost = el('td', r.cost_usd === null ? 'num unpriced' : r.cost_usd === 0 ? 'num zero' : 'num', formatCost(r.cost_usd));
  if (!r.usage_final) cost.title = 'Estimated: the stream ended before the final usage';
  tr.append(
    el('td', 'time', formatClock(r.created_at, timeZone), { title: r.created_at }),
    el('td', 'model', model, { title: model }),
    num(r.input_tokens),
    num(r.output_tokens),
    num(r.cache_read_input_tokens),
    num(r.cache_creation_input_tokens),
    cost,
    num(r.latency_ms),
    num(r.ttft_ms),
    status,
    guardBadges(r),
  );
  return tr;
}

/** A request still running: what is known now, and a plain "running…" (no spinner to animate). */
export function renderRunning(f: InFlight, timeZone: string): HTMLTableRowElement {
  const tr = rowShell(f.id, f.created_at, ' is-running');
  const model = f.model ?? '—';
  tr.append(el('td', 'time', formatClock(f.created_at, timeZone), { title: f.created_at }), el('td', 'model', model, { title: model }));
  for (let i = 0; i < 7; i += 1) tr.appendChild(el('td', 'num muted', ''));
  tr.append(el('td', 'status running', 'running…'), el('td', 'guard'));
  return tr;
}
