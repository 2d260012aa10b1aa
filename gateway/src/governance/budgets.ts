import type { BudgetPeriod } from '../config/schema.js';
import type { SpendStore } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { periodWindow, untilText, type PeriodWindow } from './periods.js';
import { SpendWriter } from './spend-writer.js';

/**
 * Budgets that hold under concurrency. A request reserves its estimated cost on every budget
 * that applies before it is forwarded; a stream asks for more as it goes and is ended when no
 * more is left; the real usage replaces the reservation at the end. So the spend in flight is
 * always covered, and concurrent requests cannot all pass a check that only one of them fits.
 *
 * The check-and-reserve runs without an `await` between reading and writing the counters, which
 * makes it atomic within this process; the scale-out store does the same in one Redis script.
 */

export type Unit = 'usd' | 'tokens';

export interface Meter {
  /** `key:<id>`, `ws:<slug>` or `user:<workspace>:<user>`. */
  scope: string;
  /** For people: `key "ci-bot"`, `workspace "eng"`, `user "alice" in workspace "eng"`. */
  label: string;
  unit: Unit;
  limit: number;
  period: BudgetPeriod;
  tz: string;
  /** Percentages at which an alert goes out. */
  thresholds: readonly number[];
}

export interface Amount {
  usd: number;
  tokens: number;
}

export interface MeterState {
  window: PeriodWindow;
  spent: number;
  reserved: number;
}

/** Told when spend crosses a threshold (at most once per budget, period and threshold). */
export type ThresholdListener = (m: Meter, state: MeterState, threshold: number) => void;

export interface Reservation {
  /** Whether what is reserved covers this much. Cheap: called for every chunk of a stream. */
  covers(used: Amount): boolean;
  /** Reserves up to `used + ahead`; false when a budget has nothing left to cover `used`. */
  extend(used: Amount, ahead: Amount): Promise<boolean>;
  /** Replaces the reservation with what was really used. */
  settle(used: Amount): Promise<void>;
  /** The budget that ran out, for the message that ends a stream. */
  exhausted(): string | undefined;
}

/**
 * Where budgets are kept: in this process (BudgetLedger) or in Redis for several instances
 * (scale/redis-ledger.ts). Admission, the budget API and metrics only see this.
 */
export interface Ledger {
  state(m: Meter, now?: number): Promise<MeterState>;
  reserve(meters: readonly Meter[], want: Amount, now?: number): Promise<Reservation>;
  /** Stores spend still waiting for its group (on shutdown). */
  flush(): Promise<void>;
  /** Lets go of connections (after `flush`, on shutdown). */
  close?(): Promise<void>;
}

export const NO_BUDGET: Reservation = {
  covers: () => true,
  extend: async () => true,
  settle: async () => undefined,
  exhausted: () => undefined,
};

export function formatAmount(unit: Unit, n: number): string {
  return unit === 'usd' ? `$${n < 10 ? n.toFixed(4).replace(/(\.\d\d\d*?)0+$/, '$1') : n.toFixed(2)}` : `${Math.round(n).toLocaleString('en-US')} tokens`;
}

const PERIOD_WORD: Record<BudgetPeriod, string> = { day: 'daily', week: 'weekly', month: 'monthly', lifetime: 'lifetime' };

export function exhaustedMessage(m: Meter, s: MeterState, now: number): { text: string; retryAfterS: number | null } {
  const used = `${m.label} has used ${formatAmount(m.unit, s.spent + s.reserved)} of its ${formatAmount(m.unit, m.limit)} ${PERIOD_WORD[m.period]} budget`;
  if (s.window.end === null) return { text: `Budget exhausted: ${used}. It does not reset; ask your Gatehouse admin to raise it.`, retryAfterS: null };
  const reset = new Date(s.window.end).toISOString();
  return {
    text: `Budget exhausted: ${used}. It resets at ${reset} (${m.tz}, ${untilText(s.window.end - now)}); ask your Gatehouse admin if you need more before then.`,
    retryAfterS: Math.max(1, Math.ceil((s.window.end - now) / 1000)),
  };
}

const PRUNE_AT = 10_000;

export class BudgetLedger implements Ledger {
  readonly #states = new Map<string, MeterState>();
  readonly #loading = new Map<string, Promise<MeterState>>();

  readonly #writer: SpendWriter;

  constructor(
    private readonly store: SpendStore,
    private readonly onThreshold: ThresholdListener,
    onWriteError: (e: unknown) => void = (e) => console.error(JSON.stringify({ level: 'error', msg: 'could not store spend', err: String(e) })),
  ) {
    this.#writer = new SpendWriter(store, onWriteError);
  }

  /** Stores spend still waiting for its group (on shutdown). */
  flush(): Promise<void> {
    return this.#writer.flush();
  }

  /** The current period's state of a budget, loaded from the store on first use. */
  async state(m: Meter, now = Date.now()): Promise<MeterState> {
    const window = periodWindow(m.period, m.tz, now);
    const id = `${m.scope}|${m.unit}|${window.key}`;
    const known = this.#states.get(id);
    if (known) return known;
    let loading = this.#loading.get(id);
    if (!loading) {
      if (this.#states.size >= PRUNE_AT) this.#prune(now);
      loading = this.store.getSpend(m.scope, m.unit, window.key).then((spent) => {
        const s = this.#states.get(id) ?? { window, spent, reserved: 0 };
        this.#states.set(id, s);
        this.#loading.delete(id);
        return s;
      });
      this.#loading.set(id, loading);
    }
    return loading;
  }

  /** Past periods with nothing in flight are only in the database now. */
  #prune(now: number): void {
    for (const [id, s] of this.#states) if (s.window.end !== null && s.window.end <= now && s.reserved === 0) this.#states.delete(id);
  }

  /**
   * Reserves `want` on every budget, or as much as is left when a budget has less (so a request
   * that fits nowhere near fully can still start; it is the only one that can, because the
   * budget then has nothing left). Throws the 429 when a budget has nothing left at all.
   */
  async reserve(meters: readonly Meter[], want: Amount, now = Date.now()): Promise<Reservation> {
    if (meters.length === 0) return NO_BUDGET;
    const states = await Promise.all(meters.map((m) => this.state(m, now)));
    // From here to the end: no await, so the check and the reservation are one step.
    for (const [i, m] of meters.entries()) {
      const s = states[i]!;
      if (m.limit - s.spent - s.reserved <= 0) {
        const { text, retryAfterS } = exhaustedMessage(m, s, now);
        throw errors.budgetExceeded(text, retryAfterS);
      }
    }
    const held = meters.map((m, i) => {
      const s = states[i]!;
      const grant = Math.min(want[m.unit], m.limit - s.spent - s.reserved);
      s.reserved += grant;
      return grant;
    });
    return this.#reservation(meters, states, held);
  }

  #reservation(meters: readonly Meter[], states: MeterState[], held: number[]): Reservation {
    let exhausted: string | undefined;
    let settled = false;
    return {
      covers: (used) => meters.every((m, i) => used[m.unit] <= held[i]!),
      extend: async (used, ahead) => {
        let ok = true;
        for (const [i, m] of meters.entries()) {
          const s = states[i]!;
          const need = used[m.unit] - held[i]!;
          if (need <= 0) continue;
          const left = Math.max(0, m.limit - s.spent - s.reserved);
          const grant = Math.min(left, need + ahead[m.unit]);
          s.reserved += grant;
          held[i]! += grant;
          if (grant < need) {
            ok = false;
            exhausted ??= exhaustedMessage(m, s, Date.now()).text;
          }
        }
        return ok;
      },
      settle: async (used) => {
        if (settled) return;
        settled = true;
        const writes = meters.map((m, i) => {
          const s = states[i]!;
          const before = s.spent;
          s.reserved = Math.max(0, s.reserved - held[i]!);
          s.spent += used[m.unit];
          for (const t of m.thresholds) if (before < (m.limit * t) / 100 && s.spent >= (m.limit * t) / 100) this.onThreshold(m, s, t);
          return { scope: m.scope, unit: m.unit, period: s.window.key, amount: used[m.unit] };
        });
        await this.#writer.add(writes.filter((w) => w.amount > 0));
      },
      exhausted: () => exhausted,
    };
  }
}
