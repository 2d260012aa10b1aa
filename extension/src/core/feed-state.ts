import type { BudgetView, Connection, InFlight, LogEntry, Snapshot } from '../../../webview/src/protocol.js';

/**
 * What the live feed knows, apart from how it learns it: rows by id (so a replayed or reloaded
 * row replaces itself instead of counting twice), requests in flight, budgets, and which budget
 * alerts were already told.
 */

/** The `budget.alert` body (gateway/src/governance/alerts.ts `BudgetAlert`), the parts shown. */
export interface FeedAlert {
  scope: string;
  label: string;
  threshold: number;
  period_start: string;
  message: string;
}

/** Spend events carry only the budgets that applied; this is how one replaces its older view. */
const budgetId = (b: BudgetView): string => `${b.scope}|${b.period}|${b.unit}`;

export class FeedState {
  #rows = new Map<string, LogEntry>();
  #inFlight = new Map<string, InFlight>();
  #budgets: BudgetView[] = [];
  #alerted = new Set<string>();
  /** Rows that arrived while a reload was under way, merged into its result. */
  #duringReload: Map<string, LogEntry> | null = null;

  constructor(private readonly maxRows: number) {}

  get rowCount(): number {
    return this.#rows.size;
  }

  /** Newest first. */
  rows(): LogEntry[] {
    return [...this.#rows.values()].sort((a, b) => (a.created_at < b.created_at ? 1 : a.created_at > b.created_at ? -1 : a.id < b.id ? 1 : -1));
  }

  budgets(): BudgetView[] {
    return this.#budgets;
  }

  /** The session of the newest row that has one: Claude Code's current session. */
  currentSession(): string | null {
    return this.rows().find((r) => r.session_id)?.session_id ?? null;
  }

  snapshot(connection: Connection): Snapshot {
    return { connection, rows: this.rows(), inFlight: [...this.#inFlight.values()], budgets: this.#budgets, currentSession: this.currentSession(), timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone };
  }

  beginReload(): void {
    this.#duringReload = new Map();
  }

  endReload(): void {
    this.#duringReload = null;
  }

  /** A reload's result, with any row that arrived live meanwhile. */
  replace(rows: readonly LogEntry[], budgets: BudgetView[]): void {
    this.#budgets = budgets;
    this.#rows = new Map([...rows.map((r): [string, LogEntry] => [r.id, r]), ...(this.#duringReload ?? [])]);
    // Starts whose finish was missed would stay "in flight" for ever.
    this.#inFlight.clear();
  }

  start(s: InFlight): InFlight {
    const start: InFlight = { id: s.id, created_at: s.created_at, model: s.model, stream: s.stream, endpoint: s.endpoint };
    if (!this.#rows.has(start.id)) this.#inFlight.set(start.id, start);
    return start;
  }

  finish(row: LogEntry): void {
    this.#rows.set(row.id, row);
    this.#duringReload?.set(row.id, row);
    this.#inFlight.delete(row.id);
    if (this.#rows.size > this.maxRows) {
      const oldest = this.rows().at(-1);
      if (oldest) this.#rows.delete(oldest.id);
    }
  }

  spend(fresh: readonly BudgetView[]): BudgetView[] {
    const byId = new Map(this.#budgets.map((b) => [budgetId(b), b]));
    for (const b of fresh) byId.set(budgetId(b), b);
    this.#budgets = [...byId.values()];
    return this.#budgets;
  }

  /** True the first time: replays after a reconnect carry the same alert again. */
  alert(a: FeedAlert): boolean {
    const id = `${a.scope}|${a.period_start}|${a.threshold}`;
    if (this.#alerted.has(id)) return false;
    this.#alerted.add(id);
    return true;
  }
}
