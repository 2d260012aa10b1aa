import type { Totals } from './aggregate.js';
import { el, svg } from './dom.js';
import { formatCompact, formatCostTotal, formatHm, formatUsd, formatWhen, plural, shortSession } from './format.js';
import type { BudgetView, Connection } from './protocol.js';

/** The one-line truth about the live feed; the view never shows old data as if it were live. */
export function connectionText(c: Connection, timeZone: string, retryLeftS: number | null): string {
  switch (c.state) {
    case 'connecting':
      return 'Connecting to the gateway…';
    case 'live':
      return `Live — ${c.gateway}`;
    case 'disconnected':
      return 'Not connected — run Gatehouse: Connect Claude Code';
    case 'offline': {
      const retry = retryLeftS === null ? '' : retryLeftS > 0 ? `; retrying in ${retryLeftS}s` : '; retrying now';
      return `Offline since ${formatHm(c.since, timeZone)} — ${c.reason}${retry}; showing the last known data`;
    }
  }
}

function stat(label: string): { box: HTMLElement; value: HTMLElement; sub: HTMLElement } {
  const box = el('div', 'stat');
  const value = el('div', 'stat-value');
  const sub = el('div', 'stat-sub muted');
  box.append(el('div', 'stat-label', label), value, sub);
  return { box, value, sub };
}

/** Connection state, today's and this session's spend, and each budget's share used. */
export class Header {
  readonly root = el('header', 'header');
  readonly #status = el('div', 'conn', null, { 'data-state': 'connecting' });
  readonly #statusText = el('span', 'conn-text');
  /** Announces state changes once; the visible line's countdown would be noise in a live region. */
  readonly #live = el('div', 'sr-only', null, { 'aria-live': 'polite', role: 'status' });
  readonly #today = stat('Today');
  readonly #session = stat('This session');
  readonly #budgets = el('div', 'budgets');
  readonly #stats = el('div', 'stats');
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(onRefresh: () => void) {
    const refresh = el('button', 'icon-button', '↻', { type: 'button', 'aria-label': 'Refresh', title: 'Refresh' });
    refresh.addEventListener('click', onRefresh);
    this.#status.append(el('span', 'conn-dot', null, { 'aria-hidden': 'true' }), this.#statusText);
    const top = el('div', 'header-top');
    top.append(this.#status, refresh, this.#live);
    this.#stats.append(this.#today.box, this.#session.box, this.#budgets);
    this.root.append(top, this.#stats);
  }

  /** The chart sits in the stats row: a bottom panel is short, and a row of its own would cost the table. */
  addStat(node: HTMLElement): void {
    this.#stats.appendChild(node);
  }

  setConnection(c: Connection, timeZone: string): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#status.dataset.state = c.state;
    const retryAt = c.state === 'offline' && c.retryInS !== null ? Date.now() + c.retryInS * 1000 : null;
    const draw = (): void => {
      const left = retryAt === null ? null : Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
      this.#statusText.textContent = connectionText(c, timeZone, left);
      if (left === 0) clearInterval(this.#timer);
    };
    draw();
    if (retryAt !== null) this.#timer = setInterval(draw, 1000);
    const said = connectionText(c, timeZone, c.state === 'offline' ? c.retryInS : null);
    if (this.#live.textContent !== said) this.#live.textContent = said;
  }

  setSpend(today: Totals, session: Totals | null, sessionId: string | null): void {
    this.#today.value.textContent = formatCostTotal(today.cost, today.unpriced);
    this.#today.sub.textContent = `${plural(today.requests, 'request')} · ${formatCompact(today.tokens)} tokens`;
    this.#session.value.textContent = session ? formatCostTotal(session.cost, session.unpriced) : '—';
    this.#session.sub.textContent = session ? `${shortSession(sessionId)} · ${plural(session.requests, 'request')}` : 'No Claude Code session yet';
  }

  setBudgets(budgets: readonly BudgetView[], timeZone: string): void {
    this.#budgets.replaceChildren(...budgets.map((b) => budgetEl(b, timeZone)));
  }
}

function amount(b: BudgetView, n: number): string {
  return b.unit === 'usd' ? formatUsd(n) : `${formatCompact(n)} tokens`;
}

function budgetEl(b: BudgetView, timeZone: string): HTMLElement {
  const used = b.spent + b.reserved;
  const share = b.limit > 0 ? used / b.limit : used > 0 ? 1 : 0;
  const pct = Math.round(share * 100);
  const box = el('div', share >= 1 ? 'stat budget over' : share >= 0.8 ? 'stat budget warn' : 'stat budget');
  const label = `${b.label} budget`;
  box.appendChild(el('div', 'stat-label', label, { title: `${b.scope} · ${b.period}` }));
  box.appendChild(el('div', 'stat-value', `${pct}%`));
  // The bar is SVG: its width is an attribute, which the CSP allows where a style attribute is not.
  const meter = el('div', 'meter', null, {
    role: 'meter',
    'aria-label': label,
    'aria-valuemin': 0,
    'aria-valuemax': 100,
    'aria-valuenow': Math.min(pct, 100),
    'aria-valuetext': `${pct}% used: ${amount(b, used)} of ${amount(b, b.limit)}`,
  });
  const bar = svg('svg', { class: 'meter-svg', width: '100%', height: 4, 'aria-hidden': 'true' });
  bar.append(svg('rect', { class: 'meter-track', width: '100%', height: 4, rx: 2 }), svg('rect', { class: 'meter-fill', width: `${Math.min(pct, 100)}%`, height: 4, rx: 2 }));
  meter.appendChild(bar);
  box.appendChild(meter);
  const held = b.reserved > 0 ? ` (${amount(b, b.reserved)} held)` : '';
  const resets = b.resets_at ? ` · resets ${formatWhen(b.resets_at, timeZone, new Date())}` : '';
  box.appendChild(el('div', 'stat-sub muted', `${amount(b, used)} of ${amount(b, b.limit)}${held}${resets}`));
  return box;
}
