import type { SpendRow, SpendStore } from '../store/types.js';

/**
 * Spend reaches the database in groups: every settlement of one turn of the event loop becomes
 * one transaction on the next, with the amounts of a budget and period added up first. The
 * ledger's counters in memory are already up to date; this only makes them survive a restart.
 */
export class SpendWriter {
  #pending = new Map<string, SpendRow>();
  #waiters: Array<() => void> = [];
  #scheduled = false;
  #chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly store: SpendStore,
    private readonly onError: (e: unknown) => void,
  ) {}

  /** Resolves once the rows are stored (or the failure was reported). */
  add(rows: readonly SpendRow[]): Promise<void> {
    for (const r of rows) {
      const id = `${r.scope}\0${r.unit}\0${r.period}`;
      const known = this.#pending.get(id);
      if (known) known.amount += r.amount;
      else this.#pending.set(id, { ...r });
    }
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  flush(): Promise<void> {
    this.#scheduled = false;
    const rows = [...this.#pending.values()];
    const waiters = this.#waiters;
    this.#pending = new Map();
    this.#waiters = [];
    if (rows.length === 0 && waiters.length === 0) return this.#chain;
    this.#chain = this.#chain.then(async () => {
      try {
        if (rows.length) await this.store.addSpend(rows);
      } catch (e) {
        this.onError(e);
      } finally {
        for (const w of waiters) w();
      }
    });
    return this.#chain;
  }
}
