import { matchesFilter, newestFirst, sessionKey, type Filter } from './aggregate.js';
import { el } from './dom.js';
import { formatInt, plural } from './format.js';
import { makeGroup, updateGroup, type GroupEls } from './group-head.js';
import type { LogModel, RowChange } from './model.js';
import type { InFlight, LogEntry } from './protocol.js';
import { COLUMNS, renderRow, renderRunning } from './row-cells.js';

/** More rows than this slow layout and keyboard navigation; the newest ones are the useful ones. */
export const DOM_CAP = 2000;

export interface TableContext {
  model: LogModel;
  filter: Filter;
  collapsed: ReadonlySet<string>;
  selected: string | null;
}

/**
 * The requests table, grouped by session. `renderAll` builds it from the model; live events go
 * through `upsert`/`addRunning`, which touch one row and one group header, so a busy session
 * does not rebuild thousands of rows per event.
 */
export class LogTable {
  readonly root = el('div', 'table-wrap');
  readonly table = el('table', 'log-table', null, { 'aria-label': 'Requests, grouped by Claude Code session' });
  readonly #note = el('p', 'table-note muted', null, { role: 'status' });
  readonly #runHead = el('tbody', 'group-head running-head', null, { hidden: true });
  readonly #runBody = el('tbody', 'group-rows running-rows');
  readonly #runLabel = el('span', 'group-summary');
  readonly #groups = new Map<string, GroupEls>();
  readonly #rows = new Map<string, HTMLTableRowElement>();
  /** Rows passing the filter, per group: the cap note needs the total without a rescan. */
  readonly #matching = new Map<string, number>();
  #capped = false;
  #currentKey: string | null = null;

  constructor(
    private readonly ctx: () => TableContext,
    private readonly onToggle: (key: string) => void,
  ) {
    const th = el('th', 'group-cell', null, { colspan: COLUMNS.length, scope: 'rowgroup' });
    th.append(el('span', 'group-name', 'Running'), this.#runLabel);
    this.#runHead.appendChild(el('tr', 'group-row')).appendChild(th);
    this.root.append(this.table, this.#note);
  }

  renderAll(): void {
    const { model, filter, collapsed } = this.ctx();
    this.#groups.clear();
    this.#rows.clear();
    this.#matching.clear();
    this.#capped = false;
    this.#currentKey = null;
    this.#runBody.replaceChildren();
    const colgroup = el('colgroup');
    const headRow = el('tr');
    for (const c of COLUMNS) {
      colgroup.appendChild(el('col', c.cls));
      headRow.appendChild(el('th', c.num ? 'num' : '', c.label, { scope: 'col', title: c.title }));
    }
    this.table.replaceChildren(colgroup, el('thead'), this.#runHead, this.#runBody);
    this.table.tHead?.appendChild(headRow);
    for (const f of [...model.inFlight.values()].sort(newestFirst)) this.addRunning(f);
    let shown = 0;
    for (const key of model.groupOrder()) {
      const g = this.#refreshGroup(key);
      if (!g || collapsed.has(key)) continue;
      const frag = document.createDocumentFragment();
      for (const r of model.groups.get(key) ?? []) {
        if (!matchesFilter(r, filter)) continue;
        if (shown >= DOM_CAP) {
          this.#capped = true;
          break;
        }
        frag.appendChild(this.#rowEl(r));
        shown += 1;
      }
      g.body.appendChild(frag);
    }
    this.#finish();
  }

  upsert(r: LogEntry, change: RowChange): void {
    const { model, filter, collapsed } = this.ctx();
    const focused = this.#focusedId();
    // A new current session takes the badge from the previous one; no recount needed for that.
    const currentKey = model.currentSession === null ? null : sessionKey(model.currentSession);
    if (this.#currentKey !== null && this.#currentKey !== currentKey) {
      const previous = this.#groups.get(this.#currentKey);
      if (previous) previous.current.hidden = true;
    }
    this.removeRunning(r.id);
    this.#rows.get(r.id)?.remove();
    this.#rows.delete(r.id);
    if (change.movedFrom !== null) this.#refreshGroup(change.movedFrom);
    const g = this.#refreshGroup(change.key);
    if (g && matchesFilter(r, filter) && !collapsed.has(change.key)) {
      const tr = this.#rowEl(r);
      g.body.insertBefore(tr, this.#olderSibling(g.body, r));
      this.#enforceCap();
    }
    this.#finish(focused);
  }

  addRunning(f: InFlight): void {
    const { filter } = this.ctx();
    if (this.#runBody.querySelector(`tr[data-id="${CSS.escape(f.id)}"]`)) return;
    const needle = filter.text.trim().toLowerCase();
    const visible =
      filter.status !== 'errors' &&
      filter.session === '' &&
      (filter.model === '' || f.model === filter.model) &&
      (needle === '' || (f.model ?? '').toLowerCase().includes(needle) || f.id.toLowerCase().includes(needle));
    if (!visible) return;
    const tr = renderRunning(f, this.ctx().model.clock.timeZone);
    this.#runBody.insertBefore(tr, this.#olderSibling(this.#runBody, f));
    this.#updateRunning();
    this.#ensureRoving();
  }

  removeRunning(id: string): void {
    const tr = this.#runBody.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
    if (!tr) return;
    tr.remove();
    this.#updateRunning();
  }

  /** Expands or collapses one group in place, so the focused toggle keeps its focus. */
  setCollapsed(key: string, isCollapsed: boolean): void {
    const g = this.#groups.get(key);
    if (!g) return;
    if (isCollapsed) {
      for (const tr of g.body.querySelectorAll<HTMLTableRowElement>('tr[data-id]')) this.#rows.delete(tr.dataset.id ?? '');
      g.body.replaceChildren();
    } else {
      const { model, filter } = this.ctx();
      const frag = document.createDocumentFragment();
      for (const r of model.groups.get(key) ?? []) if (matchesFilter(r, filter)) frag.appendChild(this.#rowEl(r));
      g.body.replaceChildren(frag);
      this.#enforceCap();
    }
    this.#refreshGroup(key);
    this.#finish();
  }

  rowElement(id: string): HTMLTableRowElement | null {
    return this.table.querySelector<HTMLTableRowElement>(`tr[data-id="${CSS.escape(id)}"]`);
  }

  showSelected(id: string | null): void {
    for (const tr of this.table.querySelectorAll('tr[aria-selected="true"]')) tr.setAttribute('aria-selected', 'false');
    if (id !== null) this.rowElement(id)?.setAttribute('aria-selected', 'true');
  }

  #rowEl(r: LogEntry): HTMLTableRowElement {
    const tr = renderRow(r, this.ctx().model.clock.timeZone);
    this.#rows.set(r.id, tr);
    return tr;
  }

  /** Creates, updates or drops one group's header: the only per-event recount is of that session. */
  #refreshGroup(key: string): GroupEls | undefined {
    const { model, filter, collapsed } = this.ctx();
    const rows = (model.groups.get(key) ?? []).filter((r) => matchesFilter(r, filter));
    let g = this.#groups.get(key);
    if (rows.length === 0) {
      if (g) {
        for (const tr of g.body.querySelectorAll<HTMLTableRowElement>('tr[data-id]')) this.#rows.delete(tr.dataset.id ?? '');
        g.head.remove();
        g.body.remove();
        this.#groups.delete(key);
      }
      this.#matching.delete(key);
      return undefined;
    }
    if (!g) {
      g = makeGroup(key, rows[0]!.session_id, this.onToggle);
      this.#groups.set(key, g);
    }
    this.#place(g);
    this.#matching.set(key, rows.length);
    const isCurrent = model.currentSession !== null && sessionKey(model.currentSession) === key;
    if (isCurrent) this.#currentKey = key;
    updateGroup(g, rows, isCurrent, collapsed.has(key), model.clock.timeZone);
    return g;
  }

  /** Keeps groups in newest-first order; moves a group only when it is out of place (moving blurs focus). */
  #place(g: GroupEls): void {
    const order = this.ctx().model.groupOrder().filter((k) => this.#groups.has(k));
    const next = this.#groups.get(order[order.indexOf(g.key) + 1] ?? '');
    const anchor = next?.head ?? null;
    if (g.head.parentNode === this.table && g.body.nextSibling === anchor && g.head.nextSibling === g.body) return;
    this.table.insertBefore(g.head, anchor);
    this.table.insertBefore(g.body, anchor);
  }

  #olderSibling(body: HTMLTableSectionElement, r: { created_at: string; id: string }): HTMLTableRowElement | null {
    for (const tr of body.rows) {
      if (newestFirst({ created_at: tr.dataset.created ?? '', id: tr.dataset.id ?? '' }, r) > 0) return tr;
    }
    return null;
  }

  #enforceCap(): void {
    let over = this.#rows.size - DOM_CAP;
    const bodies = [...this.table.tBodies].filter((b) => b.classList.contains('group-rows') && b !== this.#runBody);
    for (let i = bodies.length - 1; over > 0 && i >= 0; i -= 1) {
      const body = bodies[i]!;
      while (over > 0 && body.lastElementChild) {
        const tr = body.lastElementChild as HTMLTableRowElement;
        this.#rows.delete(tr.dataset.id ?? '');
        tr.remove();
        over -= 1;
        this.#capped = true;
      }
    }
  }

  #updateRunning(): void {
    const n = this.#runBody.rows.length;
    this.#runHead.hidden = n === 0;
    this.#runLabel.textContent = plural(n, 'request');
  }

  #focusedId(): string | null {
    const a = document.activeElement;
    return a instanceof HTMLElement && this.table.contains(a) ? (a.dataset.id ?? null) : null;
  }

  #finish(focused: string | null = null): void {
    const { model, selected } = this.ctx();
    this.showSelected(selected);
    this.#ensureRoving();
    if (focused !== null && !this.table.contains(document.activeElement)) this.rowElement(focused)?.focus();
    let matching = 0;
    for (const n of this.#matching.values()) matching += n;
    const total = model.rows.size;
    if (!model.loaded) this.#note.textContent = 'Waiting for the extension to send the log…';
    else if (total === 0 && model.inFlight.size === 0) this.#note.textContent = 'No requests today yet. Requests made with this key appear here as they finish.';
    else if (matching === 0 && total > 0) this.#note.textContent = `No requests match the filters (${plural(total, 'request')} today).`;
    else if (this.#capped) this.#note.textContent = `Showing the newest ${formatInt(DOM_CAP)} of ${formatInt(matching)} requests. Narrow the filters to see older ones.`;
    else this.#note.textContent = matching < total ? `${formatInt(matching)} of ${plural(total, 'request')} match the filters.` : '';
  }

  #ensureRoving(): void {
    if (this.table.querySelector('.nav-item[tabindex="0"]')) return;
    const { selected } = this.ctx();
    const target = (selected !== null ? this.rowElement(selected) : null) ?? this.table.querySelector<HTMLElement>('.nav-item');
    target?.setAttribute('tabindex', '0');
  }
}
