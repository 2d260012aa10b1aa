import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Logger } from '../governance/alerts.js';
import { GatewayError } from '../wire/errors.js';

/**
 * The gateway's one Redis connection, shared by the limiter and the ledger. It never queues or
 * resends a command while disconnected: a counter script run twice would charge twice, and a
 * request waiting on a dead Redis is worse than one refused at once with a message that says why.
 * ioredis keeps reconnecting in the background, so service resumes by itself when Redis is back.
 */

/** Connection failures: the caller turns them into the catalog's `redis_unavailable`. */
export class RedisDown extends Error {
  override readonly name = 'RedisDown';
}

/** `host:port` of a Redis URL for messages: the password and user never appear. */
export function redisWhere(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname || '127.0.0.1'}:${u.port || '6379'}`;
  } catch {
    return '(unparseable redis URL)';
  }
}

/** The first wait for a connection at start; later, a disconnected Redis fails at once. */
const FIRST_CONNECT_MS = 3_000;

export class RedisConnection {
  readonly client: Redis;
  readonly where: string;
  #everReady = false;
  #firstReady: Promise<void> | undefined;

  constructor(
    url: string,
    readonly prefix: string,
    private readonly log: Logger,
  ) {
    this.where = redisWhere(url);
    this.client = new Redis(url, {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      commandTimeout: 2_000,
      connectTimeout: 2_000,
      // Keep trying forever, at most a second apart, so recovery is quick and needs no restart.
      retryStrategy: (times) => Math.min(100 * times, 1_000),
      lazyConnect: false,
      // Commands of concurrent requests issued in the same tick leave in one write: on loopback
      // and in a data centre alike, the syscall and packet per command cost more than the command.
      enableAutoPipelining: true,
    });
    this.client.on('ready', () => {
      if (this.#everReady) this.log.info({ redis: this.where }, 'redis is reachable again');
      this.#everReady = true;
    });
    // Without a listener, ioredis prints every reconnect failure; outages are reported by the users.
    this.client.on('error', () => undefined);
  }

  /** Resolves when commands can be sent; rejects with RedisDown when they cannot. */
  async ready(): Promise<void> {
    if (this.client.status === 'ready') return;
    if (this.#everReady) throw new RedisDown(`redis at ${this.where} is ${this.client.status}`);
    // Requests arriving before the first connection share one wait.
    this.#firstReady ??= new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.client.off('ready', onReady);
        reject(new RedisDown(`redis at ${this.where} did not answer within ${FIRST_CONNECT_MS} ms`));
      }, FIRST_CONNECT_MS);
      const onReady = () => {
        clearTimeout(timer);
        resolve();
      };
      this.client.once('ready', onReady);
    }).finally(() => (this.#firstReady = undefined));
    return this.#firstReady;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

/**
 * A Lua script run by its SHA, loaded on first use and again after Redis forgets it (a restart
 * or SCRIPT FLUSH answers NOSCRIPT), so the source crosses the network only then.
 */
export class Script {
  readonly #sha: string;

  constructor(private readonly source: string) {
    this.#sha = createHash('sha1').update(source).digest('hex');
  }

  async run(conn: RedisConnection, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    await conn.ready();
    try {
      return await conn.client.evalsha(this.#sha, keys.length, ...keys, ...args);
    } catch (e) {
      if (!(e instanceof Error) || !e.message.startsWith('NOSCRIPT')) throw e;
      return conn.client.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

/** Numbers cross the Lua boundary as strings formatted `%.17g`, which round-trip a double exactly. */
export function num(v: unknown): number {
  return typeof v === 'number' ? v : Number(v);
}

/** The reply of a script as an array, or a clear error when Redis answered something else. */
export function replyArray(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new Error(`unexpected reply from a gateway script: ${JSON.stringify(v)}`);
  return v;
}

/**
 * Whether an error means Redis could not be used (down, timing out, loading, read-only replica)
 * rather than a bug in a script, which must surface as an internal error, not as an outage.
 */
export function isOutage(e: unknown): boolean {
  if (e instanceof RedisDown) return true;
  // A refusal (rate limited, budget exhausted) is an answer, not an outage.
  if (!(e instanceof Error) || e instanceof GatewayError) return false;
  return !(e.name === 'ReplyError' && /^ERR .*(script|user_function)/i.test(e.message));
}
