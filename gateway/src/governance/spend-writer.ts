import type { SpendRow, SpendStore } from '../store/types.js';

/**
 * Spend reaches the database in groups: every settlement of one turn of the event loop becomes
 * one transaction on the next, with the amounts of a budget and period added up first. The
 * ledger's counters in memory are already up to date; this only makes them survive a restart.
 *
 * When the database refuses a group (down, connection lost), its amounts stay in memory, added
 * to whatever comes next for the same budget and period, and are retried with back-off until it
 * answers. Summing keeps the queue small: one entry per budget and period, never per request;
 * past `maxEntries` distinct ones, new amounts are dropped and reported. Memory, not a journal:
 * an amount is added, not inserted, so replaying it twice would count it twice, and spend is
 * also in Redis when Redis is configured. Amounts still unsaved when the process stops are lost
 * from the database; the shutdown flush reports them.
 */
export class SpendWriter {
  #pending = new Map<string, SpendRow>();
  #waiters: Array<() => void> = [];
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();
  #retryMs = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Set while the database refuses spend, so the outage is reported once. */
  #failing = false;
  #dropped = 0;

  constructor(
    private readonly store: SpendStore,
    private readonly onError: (e: unknown) => void,
    private readonly maxEntries = 100_000,
    private readonly retryMaxMs = 5_000,
  ) {}

  /** Resolves once the rows are stored (or the failure was reported and they wait for a retry). */
  add(rows: readonly SpendRow[]): Promise<void> {
    this.#merge(rows);
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#attempt(false));
      }
    });
  }

  /** Stores what is pending now (on shutdown); reports amounts the database still refuses. */
  flush(): Promise<void> {
    return this.#attempt(true);
  }

  #merge(rows: readonly SpendRow[]): void {
    for (const r of rows) {
      const id = `${r.scope}\0${r.unit}\0${r.period}`;
      const known = this.#pending.get(id);
      if (known) known.amount += r.amount;
      else if (this.#pending.size < this.maxEntries) this.#pending.set(id, { ...r });
      else this.#dropped++;
    }
  }

  #attempt(final: boolean): Promise<void> {
    this.#scheduled = false;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    const rows = [...this.#pending.values()];
    const waiters = this.#waiters;
    this.#pending = new Map();
    this.#waiters = [];
    if (rows.length === 0 && waiters.length === 0) return this.#chain;
    this.#chain = this.#chain.then(async () => {
      try {
        if (rows.length) await this.store.addSpend(rows);
        this.#failing = false;
        this.#retryMs = 0;
      } catch (e) {
        // Back in the queue, ahead of nothing: amounts add up, order does not matter.
        this.#merge(rows);
        if (final) this.onError(new Error(`spend not stored (${this.#describe()}); it is lost if the process stops now: ${String(e)}`));
        else if (!this.#failing) this.onError(e);
        this.#failing = true;
        this.#retryMs = Math.min(Math.max(this.#retryMs * 2, 250), this.retryMaxMs);
        // After the shutdown flush, no timer: the store is about to close. The next add() or flush() retries.
        if (!final) this.#timer = setTimeout(() => void this.#attempt(false), this.#retryMs).unref();
      } finally {
        if (this.#dropped) {
          this.onError(new Error(`${this.#dropped} spend amounts were dropped: ${this.maxEntries} budgets and periods already wait for the database`));
          this.#dropped = 0;
        }
        for (const w of waiters) w();
      }
    });
    return this.#chain;
  }

  #describe(): string {
    const all = [...this.#pending.values()];
    const shown = all.slice(0, 20).map((r) => `${r.scope} ${r.period} +${r.amount} ${r.unit}`);
    return shown.join(', ') + (all.length > shown.length ? `, and ${all.length - shown.length} more` : '');
  }
}
