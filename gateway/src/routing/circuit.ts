/**
 * A circuit breaker per provider: after `threshold` failures in a row (the statuses that make
 * routing fall back, and network errors), the provider is skipped for `cooldownMs`; then it is
 * tried again. Routing only skips it while another target remains.
 */
export interface CircuitOptions {
  threshold: number;
  cooldownMs: number;
}

export interface CircuitState {
  slug: string;
  state: 'closed' | 'open' | 'half_open';
  consecutiveFailures: number;
  openedAt: string | null;
}

export class Circuits {
  readonly #byslug = new Map<string, { failures: number; openedAt: number | null }>();

  constructor(
    private readonly opts: CircuitOptions,
    private readonly onChange: (slug: string, state: CircuitState['state']) => void = () => undefined,
  ) {}

  #get(slug: string) {
    let c = this.#byslug.get(slug);
    if (!c) this.#byslug.set(slug, (c = { failures: 0, openedAt: null }));
    return c;
  }

  /**
   * Whether routing may send to this provider now. After the cooldown the circuit is half open:
   * requests go through again, and the next result closes it or opens it for another cooldown.
   */
  allows(slug: string, now = Date.now()): boolean {
    const c = this.#byslug.get(slug);
    return !c || c.openedAt === null || now - c.openedAt >= this.opts.cooldownMs;
  }

  record(slug: string, failed: boolean, now = Date.now()): void {
    const c = this.#get(slug);
    if (!failed) {
      if (c.openedAt !== null) this.onChange(slug, 'closed');
      c.failures = 0;
      c.openedAt = null;
      return;
    }
    c.failures++;
    if (c.openedAt !== null || c.failures >= this.opts.threshold) {
      if (c.openedAt === null) this.onChange(slug, 'open');
      c.openedAt = now;
    }
  }

  states(now = Date.now()): CircuitState[] {
    return [...this.#byslug].map(([slug, c]) => ({
      slug,
      state: c.openedAt === null ? 'closed' : now - c.openedAt >= this.opts.cooldownMs ? 'half_open' : 'open',
      consecutiveFailures: c.failures,
      openedAt: c.openedAt === null ? null : new Date(c.openedAt).toISOString(),
    }));
  }
}
