import { totalsOf } from './aggregate.js';
import { el } from './dom.js';
import { formatCompact, formatCostTotal, formatHm, plural, shortSession } from './format.js';
import type { LogEntry } from './protocol.js';
import { COLUMNS } from './row-cells.js';

/** One session's header row and the section that holds its rows. */
export interface GroupEls {
  key: string;
  head: HTMLTableSectionElement;
  body: HTMLTableSectionElement;
  button: HTMLButtonElement;
  summary: HTMLElement;
  range: HTMLElement;
  current: HTMLElement;
}

let nextId = 0;

export function makeGroup(key: string, sessionId: string | null, onToggle: (key: string) => void): GroupEls {
  const bodyId = `group-${(nextId += 1)}`;
  const head = el('tbody', 'group-head', null, { 'data-key': key });
  const body = el('tbody', 'group-rows', null, { id: bodyId, 'data-key': key });
  const th = el('th', 'group-cell', null, { colspan: COLUMNS.length, scope: 'rowgroup' });
  const button = el('button', 'group-toggle nav-item', null, { type: 'button', 'aria-expanded': 'true', 'aria-controls': bodyId, tabindex: -1 });
  button.append(el('span', 'chevron', null, { 'aria-hidden': 'true' }), el('span', 'group-name', shortSession(sessionId)));
  if (sessionId !== null) button.title = sessionId;
  button.addEventListener('click', () => onToggle(key));
  const current = el('span', 'badge badge-current', 'current', { hidden: true });
  const range = el('span', 'group-range muted');
  const summary = el('span', 'group-summary');
  th.append(button, current, range, summary);
  head.appendChild(el('tr', 'group-row')).appendChild(th);
  return { key, head, body, button, summary, range, current };
}

/** `rows` are the group's rows that pass the filter, newest first. */
export function updateGroup(g: GroupEls, rows: readonly LogEntry[], isCurrent: boolean, collapsed: boolean, timeZone: string): void {
  const t = totalsOf(rows);
  const parts = [plural(t.requests, 'request'), `${formatCompact(t.tokens)} tokens`, formatCostTotal(t.cost, t.unpriced)];
  if (t.errors > 0) parts.push(plural(t.errors, 'error'));
  g.summary.textContent = parts.join(' · ');
  g.summary.classList.toggle('has-errors', t.errors > 0);
  const newest = rows[0];
  const oldest = rows[rows.length - 1];
  g.range.textContent = newest && oldest ? `${formatHm(oldest.created_at, timeZone)}–${formatHm(newest.created_at, timeZone)}` : '';
  g.current.hidden = !isCurrent;
  g.button.setAttribute('aria-expanded', String(!collapsed));
  g.head.classList.toggle('is-collapsed', collapsed);
}
