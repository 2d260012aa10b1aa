import type { KeyRecord } from '../store/types.js';
import { GatewayError } from '../wire/errors.js';

/**
 * Per-key request rate (a token bucket holding `rpm` requests, refilled continuously) and
 * concurrency limits, in memory; scale-out moves the same logic into Redis. Every response of a
 * limited key carries `anthropic-ratelimit-requests-{limit,remaining,reset}` as Anthropic's do,
 * so clients that pace themselves on those headers work unchanged.
 */
export interface Lease {
  headers: Record<string, string>;
  release(): void;
}

const NO_LIMIT: Lease = { headers: {}, release: () => undefined };

export class RateLimiter {
  readonly #buckets = new Map<string, { tokens: number; at: number }>();
  readonly #inflight = new Map<string, number>();

  acquire(key: KeyRecord | undefined, now = Date.now()): Lease {
    if (!key || (key.rpm === null && key.max_concurrent === null)) return NO_LIMIT;
    const headers: Record<string, string> = {};
    if (key.rpm !== null) {
      const perMs = key.rpm / 60_000;
      const b = this.#buckets.get(key.id) ?? { tokens: key.rpm, at: now };
      b.tokens = Math.min(key.rpm, b.tokens + (now - b.at) * perMs);
      b.at = now;
      this.#buckets.set(key.id, b);
      if (b.tokens < 1) {
        const waitS = Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
        throw rateLimited(`This key is limited to ${key.rpm} requests per minute; retry in ${waitS} s.`, waitS, {
          'anthropic-ratelimit-requests-limit': String(key.rpm),
          'anthropic-ratelimit-requests-remaining': '0',
          'anthropic-ratelimit-requests-reset': new Date(now + ((key.rpm - b.tokens) / perMs)).toISOString(),
        });
      }
      b.tokens -= 1;
      headers['anthropic-ratelimit-requests-limit'] = String(key.rpm);
      headers['anthropic-ratelimit-requests-remaining'] = String(Math.floor(b.tokens));
      headers['anthropic-ratelimit-requests-reset'] = new Date(now + (key.rpm - b.tokens) / perMs).toISOString();
    }
    if (key.max_concurrent !== null) {
      const n = this.#inflight.get(key.id) ?? 0;
      if (n >= key.max_concurrent) {
        if (key.rpm !== null) this.#buckets.get(key.id)!.tokens += 1; // the refused request costs nothing
        throw rateLimited(`This key may have at most ${key.max_concurrent} requests in flight; one must finish first.`, 1, headers);
      }
      this.#inflight.set(key.id, n + 1);
    }
    let released = false;
    return {
      headers,
      release: () => {
        if (released || key.max_concurrent === null) return;
        released = true;
        const n = (this.#inflight.get(key.id) ?? 1) - 1;
        if (n <= 0) this.#inflight.delete(key.id);
        else this.#inflight.set(key.id, n);
      },
    };
  }
}

function rateLimited(message: string, retryAfterS: number, headers: Record<string, string>): GatewayError {
  // Whole seconds: Claude Code stops retrying and shows the message when retry-after exceeds 60.
  return new GatewayError({ code: 'rate_limited', status: 429, type: 'rate_limit_error', message, retryable: true, headers: { ...headers, 'retry-after': String(retryAfterS) } });
}
