import { randomUUID } from 'node:crypto';
import type { Logger } from '../governance/alerts.js';
import { concurrencyRefused, NO_LIMIT, requestHeaders, rpmRefused, tokenHeaders, tpmRefused, type Lease, type LimitSpec, type Limiter } from '../governance/rate-limit.js';
import { errors } from '../wire/errors.js';
import { Keepalive } from './keepalive.js';
import { ACQUIRE, RELEASE, SETTLE, TOUCH } from './limiter-lua.js';
import { isOutage, num, replyArray, Script, type RedisConnection } from './redis-client.js';

/**
 * RateLimiter's twin for several instances: the same buckets, refusals and headers, with the
 * counters in Redis (see limiter-lua.ts). When Redis cannot be reached, `on_failure.rate_limits`
 * decides: "closed" refuses with the catalog's redis_unavailable, "open" admits without counting
 * and says so once per outage in the log.
 */

/**
 * A lease's slot lapses `leaseTtlMs` after its last renewal, so an instance that died frees its
 * slots within a minute; a live one renews every `renewEveryMs`, well inside the TTL.
 */
export interface LeaseTiming {
  leaseTtlMs: number;
  renewEveryMs: number;
}
const TIMING: LeaseTiming = { leaseTtlMs: 60_000, renewEveryMs: 20_000 };

const acquireScript = new Script(ACQUIRE);
const settleScript = new Script(SETTLE);
const releaseScript = new Script(RELEASE);
const touchScript = new Script(TOUCH);

export class RedisRateLimiter implements Limiter {
  readonly #keepalive: Keepalive;
  #failingOpen = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly onFailure: 'open' | 'closed',
    private readonly log: Logger,
    private readonly timing: LeaseTiming = TIMING,
  ) {
    this.#keepalive = new Keepalive(timing.renewEveryMs);
  }

  // One hash tag for every limiter key: a request's scopes are charged in one script, which Redis
  // Cluster allows only within one slot. The price is that limiter keys do not spread over shards.
  #key(scope: string, kind: 'rq' | 'tk' | 'fl'): string {
    return `${this.conn.prefix}{rl}:${scope}:${kind}`;
  }

  acquire(specs: readonly LimitSpec[], estTokens: number): Lease | Promise<Lease> {
    const active = specs.filter((s) => s.rpm || s.tpm || s.max_concurrent);
    if (active.length === 0) return NO_LIMIT;
    return this.#acquire(active, estTokens).catch((e: unknown) => {
      if (!isOutage(e)) throw e;
      if (this.onFailure === 'closed') throw errors.redisUnavailable(this.conn.where, 'rate limits', e);
      if (!this.#failingOpen) {
        this.#failingOpen = true;
        this.log.warn({ redis: this.conn.where, err: String(e) }, 'redis is unreachable: rate limits are not enforced until it is back (redis.on_failure.rate_limits is "open")');
      }
      return NO_LIMIT;
    });
  }

  async #acquire(active: readonly LimitSpec[], estTokens: number): Promise<Lease> {
    const id = randomUUID();
    const keys = active.flatMap((s) => [this.#key(s.scope, 'rq'), this.#key(s.scope, 'tk'), this.#key(s.scope, 'fl')]);
    const args = [estTokens, id, this.timing.leaseTtlMs, ...active.flatMap((s) => [s.rpm ?? 0, s.tpm ?? 0, s.max_concurrent ?? 0])];
    const reply = replyArray(await acquireScript.run(this.conn, keys, args));
    this.#failingOpen = false;
    if (num(reply[0]) === 0) {
      const s = active[num(reply[1]) - 1]!;
      const [kind, level, at, need] = [String(reply[2]), num(reply[3]), num(reply[4]), num(reply[5])];
      if (kind === 'rpm') throw rpmRefused(s, s.rpm!, level, at);
      if (kind === 'tpm') throw tpmRefused(s, s.tpm!, level, need, at);
      throw concurrencyRefused(s, s.max_concurrent!);
    }

    // The headers of the tightest scope, picked in the same order as RateLimiter does.
    const now = num(reply[1]);
    const headers: Record<string, string> = {};
    let tightestRequests = Infinity;
    let tightestTokens = Infinity;
    for (const [i, s] of active.entries()) {
      const rq = reply[2 + 2 * i];
      const tk = reply[3 + 2 * i];
      if (s.rpm && rq !== '' && num(rq) / s.rpm < tightestRequests) {
        tightestRequests = num(rq) / s.rpm;
        Object.assign(headers, requestHeaders(s.rpm, num(rq), now));
      }
      if (s.tpm && tk !== '' && num(tk) / s.tpm < tightestTokens) {
        tightestTokens = num(tk) / s.tpm;
        Object.assign(headers, tokenHeaders(s.tpm, num(tk), now));
      }
    }
    return this.#lease(active, estTokens, id, headers);
  }

  #lease(active: readonly LimitSpec[], estTokens: number, id: string, headers: Record<string, string>): Lease {
    const tokenScopes = active.filter((s) => s.tpm);
    const flights = active.filter((s) => s.max_concurrent).map((s) => this.#key(s.scope, 'fl'));
    if (flights.length) this.#keepalive.hold(id, () => touchScript.run(this.conn, flights, [id, this.timing.leaseTtlMs]));
    let settled = false;
    let released = false;
    // Lease calls return nothing: a failure is logged, and the TTLs repair what it left behind.
    const report = (what: string) => (e: unknown) => this.log.warn({ redis: this.conn.where, err: String(e) }, `could not ${what} a rate-limit lease in redis`);
    return {
      headers,
      settle: (tokens) => {
        if (settled) return;
        settled = true;
        const delta = tokens - estTokens;
        if (delta === 0 || tokenScopes.length === 0) return;
        const keys = tokenScopes.map((s) => this.#key(s.scope, 'tk'));
        settleScript.run(this.conn, keys, [delta, ...tokenScopes.map((s) => s.tpm!)]).catch(report('settle'));
      },
      release: () => {
        if (released) return;
        released = true;
        if (flights.length === 0) return;
        this.#keepalive.drop(id);
        releaseScript.run(this.conn, flights, [id]).catch(report('release'));
      },
    };
  }

  close(): void {
    this.#keepalive.stop();
  }
}
