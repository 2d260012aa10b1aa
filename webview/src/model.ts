import { newestFirst, sessionKey, ZonedClock } from './aggregate.js';
import type { BudgetView, Connection, InFlight, LogEntry, Snapshot } from './protocol.js';

/** What changed when a finished row arrived, so the view can touch only that session. */
export interface RowChange {
  key: string;
  /** The row's previous group when an update moved it (a row never changes session in practice). */
  movedFrom: string | null;
  isNew: boolean;
}

/**
 * Everything the host told the view, kept so live events can be applied one at a time. No DOM:
 * the same object backs the table, the chart and the header.
 */
export class LogModel {
  readonly rows = new Map<string, LogEntry>();
  /** Session key → its rows, newest first. */
  readonly groups = new Map<string, LogEntry[]>();
  readonly inFlight = new Map<string, InFlight>();
  budgets: BudgetView[] = [];
  connection: Connection = { state: 'connecting' };
  currentSession: string | null = null;
  clock = new ZonedClock(Intl.DateTimeFormat().resolvedOptions().timeZone);
  /** False until the first snapshot: an empty table before it would claim "no requests". */
  loaded = false;

  applySnapshot(s: Snapshot): void {
    this.rows.clear();
    this.groups.clear();
    this.inFlight.clear();
    for (const r of s.rows) this.rows.set(r.id, r);
    for (const r of this.rows.values()) {
      const key = sessionKey(r.session_id);
      const list = this.groups.get(key);
      if (list) list.push(r);
      else this.groups.set(key, [r]);
    }
    for (const list of this.groups.values()) list.sort(newestFirst);
    for (const f of s.inFlight) if (!this.rows.has(f.id)) this.inFlight.set(f.id, f);
    this.budgets = s.budgets;
    this.connection = s.connection;
    this.currentSession = s.currentSession;
    if (s.timeZone !== this.clock.timeZone) this.clock = new ZonedClock(s.timeZone);
    this.loaded = true;
  }

  upsertRow(r: LogEntry): RowChange {
    this.inFlight.delete(r.id);
    const key = sessionKey(r.session_id);
    const old = this.rows.get(r.id);
    let movedFrom: string | null = null;
    if (old) {
      const oldKey = sessionKey(old.session_id);
      this.#removeFromGroup(oldKey, old.id);
      if (oldKey !== key) movedFrom = oldKey;
    }
    this.rows.set(r.id, r);
    let list = this.groups.get(key);
    if (!list) this.groups.set(key, (list = []));
    // Live rows are almost always the newest, so a scan from the front stops at once.
    let i = 0;
    while (i < list.length && newestFirst(list[i]!, r) < 0) i += 1;
    list.splice(i, 0, r);
    // "This session" follows Claude Code: a request from another client carries no session.
    if (r.session_id !== null) {
      const current = this.currentSession === null ? undefined : this.groups.get(sessionKey(this.currentSession))?.[0];
      if (!current || newestFirst(r, current) <= 0) this.currentSession = r.session_id;
    }
    return { key, movedFrom, isNew: !old };
  }

  /** False when the request already finished (events can arrive out of order after a reconnect). */
  addStart(f: InFlight): boolean {
    if (this.rows.has(f.id)) return false;
    this.inFlight.set(f.id, f);
    return true;
  }

  /** Session keys, the one with the newest request first. */
  groupOrder(): string[] {
    const keys = [...this.groups.keys()].filter((k) => (this.groups.get(k)?.length ?? 0) > 0);
    return keys.sort((a, b) => newestFirst(this.groups.get(a)![0]!, this.groups.get(b)![0]!));
  }

  /** Models and sessions seen, for the filter menus. */
  models(): string[] {
    const set = new Set<string>();
    for (const r of this.rows.values()) {
      if (r.model) set.add(r.model);
      if (r.served_model) set.add(r.served_model);
    }
    return [...set].sort();
  }

  #removeFromGroup(key: string, id: string): void {
    const list = this.groups.get(key);
    if (!list) return;
    const i = list.findIndex((x) => x.id === id);
    if (i >= 0) list.splice(i, 1);
    if (list.length === 0) this.groups.delete(key);
  }
}
