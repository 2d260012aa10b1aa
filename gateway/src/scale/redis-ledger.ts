import { randomUUID } from 'node:crypto';
import type { Logger } from '../governance/alerts.js';
import { exhaustedMessage, NO_BUDGET, type Amount, type Ledger, type Meter, type MeterState, type Reservation, type ThresholdListener } from '../governance/budgets.js';
import { periodWindow, type PeriodWindow } from '../governance/periods.js';
import { SpendWriter } from '../governance/spend-writer.js';
import type { SpendStore } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { Keepalive } from './keepalive.js';
import { EXTEND, PEEK, RESERVE, SEED, SETTLE, TOUCH } from './ledger-lua.js';
import { isOutage, num, replyArray, Script, type RedisConnection } from './redis-client.js';

/**
 * BudgetLedger's twin for several instances: the same reservations, partial grants, refusals and
 * threshold alerts, with the counters in Redis (see ledger-lua.ts). Redis is the live counter
 * every instance checks; the store stays the durable record: every settlement still goes through
 * the SpendWriter, and a counter Redis does not have (first use, or Redis lost its data) is seeded
 * from the store's spend for that period. Budgets always fail closed: without Redis no request
 * that a budget applies to is let through.
 */

/**
 * A reservation lapses `ttlMs` after its last renewal, so the holds of an instance that died
 * return to their budgets within two minutes; a live request renews every `renewEveryMs`.
 */
export interface ReservationTiming {
  ttlMs: number;
  renewEveryMs: number;
}
const TIMING: ReservationTiming = { ttlMs: 120_000, renewEveryMs: 30_000 };
/** Counters outlive their period by a day, for the budget API's late readers. */
const KEEP_AFTER_PERIOD_MS = 86_400_000;

const scripts = { reserve: new Script(RESERVE), extend: new Script(EXTEND), settle: new Script(SETTLE), peek: new Script(PEEK), touch: new Script(TOUCH), seed: new Script(SEED) };

interface Counter {
  meter: Meter;
  window: PeriodWindow;
  key: string;
  exp: string;
  expireAt: number;
}

export class RedisBudgetLedger implements Ledger {
  readonly #writer: SpendWriter;
  readonly #keepalive: Keepalive;

  constructor(
    private readonly conn: RedisConnection,
    private readonly store: SpendStore,
    private readonly onThreshold: ThresholdListener,
    private readonly log: Logger,
    /** Also closes what shares the connection (the limiter). */
    private readonly onClose: () => void = () => undefined,
    private readonly timing: ReservationTiming = TIMING,
  ) {
    this.#keepalive = new Keepalive(timing.renewEveryMs);
    this.#writer = new SpendWriter(store, (e) => log.warn({ err: String(e) }, 'could not store spend'));
  }

  flush(): Promise<void> {
    return this.#writer.flush();
  }

  async close(): Promise<void> {
    this.#keepalive.stop();
    this.onClose();
    await this.conn.close();
  }

  // One hash tag for every budget counter: a request's budgets are reserved in one script, which
  // Redis Cluster allows only within one slot (at the cost of not spreading counters over shards).
  #counter(m: Meter, now: number): Counter {
    const window = periodWindow(m.period, m.tz, now);
    const key = `${this.conn.prefix}{bg}:${m.scope}|${m.unit}|${window.key}`;
    return { meter: m, window, key, exp: `${key}:exp`, expireAt: window.end === null ? 0 : window.end + KEEP_AFTER_PERIOD_MS };
  }

  /** Runs a ledger script, seeding from the store each counter Redis does not have yet. */
  async #run(script: Script, counters: readonly Counter[], args: readonly (string | number)[]): Promise<unknown[]> {
    const keys = counters.flatMap((c) => [c.key, c.exp]);
    for (let attempt = 0; ; attempt++) {
      const reply = replyArray(await script.run(this.conn, keys, args));
      if (num(reply[0]) !== -1) return reply;
      if (attempt > counters.length) throw new Error('budget counters vanished while being seeded');
      const c = counters[num(reply[1]) - 1]!;
      const spent = await this.store.getSpend(c.meter.scope, c.meter.unit, c.window.key);
      await scripts.seed.run(this.conn, [c.key], [spent, c.expireAt]);
    }
  }

  #unavailable(e: unknown): unknown {
    return isOutage(e) ? errors.redisUnavailable(this.conn.where, 'budgets', e) : e;
  }

  async state(m: Meter, now = Date.now()): Promise<MeterState> {
    const c = this.#counter(m, now);
    try {
      const reply = await this.#run(scripts.peek, [c], []);
      return { window: c.window, spent: num(reply[1]), reserved: num(reply[2]) };
    } catch (e) {
      throw this.#unavailable(e);
    }
  }

  async reserve(meters: readonly Meter[], want: Amount, now = Date.now()): Promise<Reservation> {
    if (meters.length === 0) return NO_BUDGET;
    const counters = meters.map((m) => this.#counter(m, now));
    const id = randomUUID();
    let reply: unknown[];
    try {
      reply = await this.#run(scripts.reserve, counters, [id, this.timing.ttlMs, ...counters.flatMap((c) => [c.meter.limit, want[c.meter.unit], c.expireAt])]);
    } catch (e) {
      throw this.#unavailable(e);
    }
    if (num(reply[0]) === 0) {
      const c = counters[num(reply[1]) - 1]!;
      const { text, retryAfterS } = exhaustedMessage(c.meter, { window: c.window, spent: num(reply[2]), reserved: num(reply[3]) }, now);
      throw errors.budgetExceeded(text, retryAfterS);
    }
    const held = counters.map((_, i) => num(reply[1 + 3 * i]));
    const exps = counters.map((c) => c.exp);
    this.#keepalive.hold(id, () => scripts.touch.run(this.conn, exps, [id, this.timing.ttlMs]));
    return this.#reservation(id, counters, held);
  }

  #reservation(id: string, counters: readonly Counter[], held: number[]): Reservation {
    let exhausted: string | undefined;
    let settled = false;
    return {
      covers: (used) => counters.every((c, i) => used[c.meter.unit] <= held[i]!),
      extend: async (used, ahead) => {
        const need = counters.map((c, i) => used[c.meter.unit] - held[i]!);
        let reply: unknown[];
        try {
          reply = await this.#run(scripts.extend, counters, [id, this.timing.ttlMs, ...counters.flatMap((c, i) => [c.meter.limit, need[i]!, ahead[c.meter.unit]])]);
        } catch (e) {
          // A stream cannot be let run on spend nobody can count: it ends here, saying why.
          exhausted ??= (this.#unavailable(e) as Error).message;
          return false;
        }
        let ok = true;
        for (const [i, c] of counters.entries()) {
          if (need[i]! <= 0) continue;
          const grant = num(reply[1 + 3 * i]);
          held[i]! += grant;
          if (grant < need[i]!) {
            ok = false;
            exhausted ??= exhaustedMessage(c.meter, { window: c.window, spent: num(reply[2 + 3 * i]), reserved: num(reply[3 + 3 * i]) }, Date.now()).text;
          }
        }
        return ok;
      },
      settle: async (used) => {
        if (settled) return;
        settled = true;
        this.#keepalive.drop(id);
        try {
          const reply = await this.#run(scripts.settle, counters, [id, ...counters.flatMap((c) => [used[c.meter.unit], c.expireAt])]);
          for (const [i, c] of counters.entries()) {
            const [before, after] = [num(reply[1 + 3 * i]), num(reply[2 + 3 * i])];
            const state: MeterState = { window: c.window, spent: after, reserved: num(reply[3 + 3 * i]) };
            for (const t of c.meter.thresholds) {
              const at = (c.meter.limit * t) / 100;
              if (before < at && after >= at) this.onThreshold(c.meter, state, t);
            }
          }
        } catch (e) {
          // The hold lapses by its TTL; the spend still reaches the store below.
          this.log.warn({ redis: this.conn.where, err: String(e) }, 'could not settle a budget reservation in redis');
        }
        const rows = counters.map((c) => ({ scope: c.meter.scope, unit: c.meter.unit, period: c.window.key, amount: used[c.meter.unit] }));
        await this.#writer.add(rows.filter((r) => r.amount > 0));
      },
      exhausted: () => exhausted,
    };
  }
}
