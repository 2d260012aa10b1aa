import { StoreUnavailableError } from './unavailable.js';

/**
 * Whether the PostgreSQL server answers, as the store and /readyz see it.
 *
 * A call that fails for want of the server (refused, reset, timed out, the server shutting down)
 * starts a probe (`SELECT 1`). If the probe fails too, the database is *down*: calls fail at once
 * with a StoreUnavailableError instead of each waiting for a connect timeout, and the probe is
 * repeated every `probeEveryMs` until it succeeds. One failed call alone (an idle connection the
 * server dropped) does not mark it down.
 */

// Socket-level failures: the server is not there, or went away mid-call.
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);
// SQLSTATE: connection exceptions (class 08), shutdown / starting up (57P0x), no free
// connections (53300), statement timeout or cancel (57014).
const SERVER_CODES = /^(08...|57P0.|53300|57014)$/;
// pg's own errors carry no code: a terminated connection, its connect or query timeouts.
const DRIVER_MESSAGES = /connection terminated|timeout exceeded when trying to connect|not queryable|query read timeout|connection timeout/i;

/** True for an error that says the database cannot be reached, rather than a bad query. */
export function isUnavailable(e: unknown): boolean {
  if (e instanceof StoreUnavailableError) return true;
  if (!(e instanceof Error)) return false;
  const code = (e as Error & { code?: unknown }).code;
  if (typeof code === 'string' && (SOCKET_CODES.has(code) || SERVER_CODES.test(code))) return true;
  return typeof code !== 'string' && DRIVER_MESSAGES.test(e.message);
}

export interface HealthOptions {
  /** `host:port`, for messages a client may see. */
  endpoint: string;
  /** Where the admin is told, in words: host, port, database and user (never the password). */
  target: string;
  /** One round trip to the server; rejects when it cannot be made. */
  probe: () => Promise<void>;
  probeEveryMs?: number;
  /** How long /readyz waits for a probe before calling the database unreachable. */
  readyWaitMs?: number;
  log?: (level: 'warn' | 'info', msg: string) => void;
}

export class PostgresHealth {
  #down: StoreUnavailableError | undefined;
  #probing: Promise<boolean> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #lastAnswer = 0;
  #closed = false;

  constructor(private readonly opts: HealthOptions) {}

  /** Throws while the database is known to be down. */
  check(): void {
    if (this.#down) throw this.#down;
  }

  /** A call got its answer. */
  answered(): void {
    this.#lastAnswer = Date.now();
  }

  /** Turns a failed call's error into what the caller throws, probing when it means an outage. */
  failed(e: unknown): unknown {
    if (!isUnavailable(e)) return e;
    if (!this.#down) void this.#probe();
    return this.#error(e);
  }

  /** For /readyz: answers within `readyWaitMs`, probing when the server has been quiet for a second. */
  async reachable(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const down = () => ({ ok: false as const, reason: `cannot reach PostgreSQL at ${this.opts.endpoint}` });
    if (this.#down) return down();
    if (Date.now() - this.#lastAnswer < 1_000) return { ok: true };
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), this.opts.readyWaitMs ?? 2_000)));
    const ok = await Promise.race([this.#probe(), late]).finally(() => clearTimeout(timer));
    return ok ? { ok: true } : down();
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  #error(cause: unknown): StoreUnavailableError {
    if (cause instanceof StoreUnavailableError) return cause;
    const code = (cause as { code?: unknown }).code;
    return new StoreUnavailableError(`PostgreSQL store: ${this.opts.target} cannot be reached (${typeof code === 'string' ? code : (cause as Error).message})`, typeof code === 'string' ? code : undefined, this.opts.endpoint, { cause });
  }

  /** One probe at a time; resolves true when the server answered. */
  #probe(): Promise<boolean> {
    const startedAt = Date.now();
    this.#probing ??= this.opts
      .probe()
      .then(
        () => {
          this.answered();
          if (this.#down) this.opts.log?.('info', `PostgreSQL at ${this.opts.endpoint} answers again`);
          this.#down = undefined;
          return true;
        },
        (e: unknown) => {
          // A call answered since this probe began: the server is back, the probe's news is stale.
          if (this.#lastAnswer >= startedAt) return true;
          if (!this.#down) this.opts.log?.('warn', `PostgreSQL at ${this.opts.endpoint} cannot be reached; calls fail at once until it answers again (probing every ${this.opts.probeEveryMs ?? 1_000} ms)`);
          this.#down = this.#error(e);
          if (!this.#closed) this.#timer = setTimeout(() => void this.#probe(), this.opts.probeEveryMs ?? 1_000).unref();
          return false;
        },
      )
      .finally(() => (this.#probing = undefined));
    return this.#probing;
  }
}
