import { errors, type GatewayError } from '../wire/errors.js';

/**
 * Request rate, token rate and concurrency limits for every scope a request falls in (its key,
 * its workspace, its developer). Rates are token buckets refilled continuously over a minute.
 * All scopes are checked before any is charged, with no `await` in between, so a refused request
 * costs nothing and two requests cannot both take the last slot. Every response of a limited
 * request carries `anthropic-ratelimit-*` headers as Anthropic's do (for the tightest scope), so
 * clients that pace themselves on those headers work unchanged.
 */

export interface LimitSpec {
  /** `key:<id>`, `ws:<slug>`, `user:<workspace>:<user>`. */
  scope: string;
  /** For people: `key "ci-bot"`, `workspace "eng"`. */
  label: string;
  rpm?: number | null;
  tpm?: number | null;
  max_concurrent?: number | null;
}

export interface Lease {
  headers: Record<string, string>;
  /** Charges the real token count in place of the estimate taken at the start. */
  settle(tokens: number): void;
  release(): void;
}

/**
 * What admission asks for a lease. The in-memory limiter answers synchronously (its hot path
 * must not pay for a promise); the Redis one (scale/redis-limiter.ts) answers with a promise.
 */
export interface Limiter {
  acquire(specs: readonly LimitSpec[], estTokens: number): Lease | Promise<Lease>;
}

export const NO_LIMIT: Lease = { headers: {}, settle: () => undefined, release: () => undefined };

interface Bucket {
  level: number;
  at: number;
}

const MINUTE = 60_000;

export class RateLimiter implements Limiter {
  readonly #requests = new Map<string, Bucket>();
  readonly #tokens = new Map<string, Bucket>();
  readonly #inflight = new Map<string, number>();

  /** Tops a bucket up for the time passed; full the first time it is seen. */
  #bucket(map: Map<string, Bucket>, scope: string, capacity: number, now: number): Bucket {
    const b = map.get(scope) ?? { level: capacity, at: now };
    b.level = Math.min(capacity, b.level + ((now - b.at) * capacity) / MINUTE);
    b.at = now;
    map.set(scope, b);
    return b;
  }

  /** `estTokens`: what the request is expected to use (its input); corrected by `settle`. */
  acquire(specs: readonly LimitSpec[], estTokens: number, now = Date.now()): Lease {
    const active = specs.filter((s) => s.rpm || s.tpm || s.max_concurrent);
    if (active.length === 0) return NO_LIMIT;

    // Check every scope first.
    for (const s of active) {
      if (s.rpm) {
        const b = this.#bucket(this.#requests, s.scope, s.rpm, now);
        if (b.level < 1) {
          throw rpmRefused(s, s.rpm, b.level, now);
        }
      }
      if (s.tpm) {
        const b = this.#bucket(this.#tokens, s.scope, s.tpm, now);
        // A request bigger than the whole minute's allowance may still go when the bucket is full.
        const need = Math.min(estTokens, s.tpm);
        if (b.level < need) {
          throw tpmRefused(s, s.tpm, b.level, need, now);
        }
      }
      if (s.max_concurrent && (this.#inflight.get(s.scope) ?? 0) >= s.max_concurrent) {
        throw concurrencyRefused(s, s.max_concurrent);
      }
    }

    // Then charge them all.
    const headers: Record<string, string> = {};
    let tightestRequests = Infinity;
    let tightestTokens = Infinity;
    for (const s of active) {
      if (s.rpm) {
        const b = this.#requests.get(s.scope)!;
        b.level -= 1;
        if (b.level / s.rpm < tightestRequests) {
          tightestRequests = b.level / s.rpm;
          Object.assign(headers, requestHeaders(s.rpm, b.level, now));
        }
      }
      if (s.tpm) {
        const b = this.#tokens.get(s.scope)!;
        b.level -= estTokens;
        if (b.level / s.tpm < tightestTokens) {
          tightestTokens = b.level / s.tpm;
          Object.assign(headers, tokenHeaders(s.tpm, b.level, now));
        }
      }
      if (s.max_concurrent) this.#inflight.set(s.scope, (this.#inflight.get(s.scope) ?? 0) + 1);
    }

    let released = false;
    let settled = false;
    return {
      headers,
      settle: (tokens) => {
        if (settled) return;
        settled = true;
        for (const s of active) {
          const b = s.tpm ? this.#tokens.get(s.scope) : undefined;
          if (b) b.level -= tokens - estTokens;
        }
      },
      release: () => {
        if (released) return;
        released = true;
        for (const s of active) {
          if (!s.max_concurrent) continue;
          const n = (this.#inflight.get(s.scope) ?? 1) - 1;
          if (n <= 0) this.#inflight.delete(s.scope);
          else this.#inflight.set(s.scope, n);
        }
      },
    };
  }
}

// The refusals, shared with the Redis limiter so both say and send exactly the same.
export function rpmRefused(s: LimitSpec, rpm: number, level: number, now: number): GatewayError {
  const waitS = secondsToRefill(1 - level, rpm);
  return errors.rateLimited(`The ${s.label} is limited to ${rpm} requests per minute; retry in ${waitS} s.`, waitS, requestHeaders(rpm, level, now));
}

export function tpmRefused(s: LimitSpec, tpm: number, level: number, need: number, now: number): GatewayError {
  const waitS = secondsToRefill(need - level, tpm);
  return errors.rateLimited(`The ${s.label} is limited to ${tpm.toLocaleString('en-US')} tokens per minute; retry in ${waitS} s.`, waitS, tokenHeaders(tpm, level, now));
}

export function concurrencyRefused(s: LimitSpec, max: number): GatewayError {
  return errors.rateLimited(`The ${s.label} may have at most ${max} requests in flight; one must finish first.`, 1, {});
}

// Whole seconds: Claude Code reads retry-after as an integer.
const secondsToRefill = (missing: number, perMinute: number) => Math.max(1, Math.ceil((missing * MINUTE) / perMinute / 1000));

const resetAt = (capacity: number, level: number, now: number) => new Date(now + ((capacity - Math.min(capacity, level)) * MINUTE) / capacity).toISOString();

export function requestHeaders(limit: number, level: number, now: number): Record<string, string> {
  return {
    'anthropic-ratelimit-requests-limit': String(limit),
    'anthropic-ratelimit-requests-remaining': String(Math.max(0, Math.floor(level))),
    'anthropic-ratelimit-requests-reset': resetAt(limit, level, now),
  };
}

export function tokenHeaders(limit: number, level: number, now: number): Record<string, string> {
  return {
    'anthropic-ratelimit-tokens-limit': String(limit),
    'anthropic-ratelimit-tokens-remaining': String(Math.max(0, Math.floor(level))),
    'anthropic-ratelimit-tokens-reset': resetAt(limit, level, now),
  };
}
