/**
 * Renews the TTL of what this instance holds in Redis (concurrency leases, budget reservations)
 * while it holds it. The TTL is what frees the slots and money of an instance that died without
 * releasing them; the renewal is what lets a live stream outlast that TTL.
 */
export class Keepalive {
  readonly #held = new Map<string, () => Promise<unknown>>();
  readonly #timer: NodeJS.Timeout;

  constructor(everyMs: number) {
    this.#timer = setInterval(() => this.#renew(), everyMs);
    // Never what keeps the process alive.
    this.#timer.unref();
  }

  hold(id: string, renew: () => Promise<unknown>): void {
    this.#held.set(id, renew);
  }

  drop(id: string): void {
    this.#held.delete(id);
  }

  #renew(): void {
    // A failed renewal is retried at the next tick; the TTL is several ticks long.
    for (const renew of this.#held.values()) renew().catch(() => undefined);
  }

  stop(): void {
    clearInterval(this.#timer);
    this.#held.clear();
  }
}
