import pg from 'pg';
import type { PostgresHealth } from './postgres-health.js';
import { StoreUnavailableError } from './unavailable.js';

export { StoreUnavailableError } from './unavailable.js';

/**
 * The connection pool of the PostgreSQL store, and the one place that turns a connection failure
 * into a sentence for the admin. The URL carries a password: it never appears in a message.
 */

export interface PostgresOptions {
  url: string;
  pool_size: number;
  statement_timeout_ms?: number;
}

// int8 (COUNT(*), bigint token columns) arrives as a string by default, to be safe beyond 2^53;
// counts and token totals never get there, and the Store's types say number.
const INT8_OID = 20;
const types = {
  getTypeParser: ((oid: number, format?: string) =>
    oid === INT8_OID && format !== 'binary' ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as 'text')) as typeof pg.types.getTypeParser,
};

export function createPool(opts: PostgresOptions): pg.Pool {
  const pool = new pg.Pool({
    connectionString: opts.url,
    max: opts.pool_size,
    application_name: 'gatehouse',
    connectionTimeoutMillis: 10_000,
    ...(opts.statement_timeout_ms === undefined ? {} : { statement_timeout: opts.statement_timeout_ms }),
    types,
  });
  // An idle connection that dies (server restart, failover) must not crash the gateway: the
  // pool drops it and the next query opens a new one.
  pool.on('error', (e: Error & { code?: string }) => console.error(JSON.stringify({ level: 'error', msg: 'PostgreSQL connection lost; it will be reopened on the next query', code: e.code ?? null })));
  return pool;
}

/** `host:port` of the URL, the part of the target a client may be told. */
export function endpointOf(url: string): string {
  try {
    const u = new URL(url);
    return `${u.searchParams.get('host') ?? (u.hostname || 'localhost')}:${u.port || '5432'}`;
  } catch {
    return 'its configured address';
  }
}

/** Where the URL points, without its password: `host:port/database as user`. */
export function describeTarget(url: string): string {
  try {
    const u = new URL(url);
    const host = u.searchParams.get('host') ?? (u.hostname || 'localhost');
    const db = decodeURIComponent(u.pathname.replace(/^\//, '')) || decodeURIComponent(u.username) || 'postgres';
    return `${host}:${u.port || '5432'}, database "${db}"${u.username ? ` as user "${decodeURIComponent(u.username)}"` : ''}`;
  } catch {
    return 'the configured server (the URL does not parse; write it as postgres://user:password@host:5432/database)';
  }
}

const HINTS: Readonly<Record<string, string>> = {
  ECONNREFUSED: 'check that PostgreSQL is running and listens on that host and port (listen_addresses, firewall)',
  ENOTFOUND: 'check the host name in the URL (DNS does not know it)',
  EAI_AGAIN: 'check the host name in the URL and DNS',
  ETIMEDOUT: 'check that the host is reachable from this machine (firewall, security group)',
  '28P01': 'check the user name and password in the URL',
  '28000': 'check pg_hba.conf on the server: it has no entry that lets this user connect from here',
  '3D000': 'create the database first (CREATE DATABASE), or fix its name in the URL',
  '42501': 'grant the user the right to create tables in the database (the gateway creates its schema)',
  '53300': 'the server has no free connections; lower store.pool_size or raise max_connections',
};

/** Replaces any occurrence of the URL's password (a driver message might echo it). */
function redact(text: string, url: string): string {
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // No parseable password to hide.
  }
  return password ? text.split(password).join('***') : text;
}

export function connectionError(url: string, e: unknown, doing: string): StoreUnavailableError {
  const err = e as Error & { code?: string };
  // pg reports its own connect timeout without a code.
  const code = typeof err.code === 'string' ? err.code : /timeout/i.test(err.message) ? 'ETIMEDOUT' : undefined;
  const hint = (code && HINTS[code]) ?? 'check store.url and that the server is reachable';
  // Server errors (SQLSTATE codes) have safe messages; a socket error's message repeats its code.
  const detail = code && /^[0-9A-Z]{5}$/.test(code) ? `: ${redact(err.message, url)}` : '';
  return new StoreUnavailableError(`PostgreSQL store: ${doing} ${describeTarget(url)} failed (${code ?? err.name}${detail}); ${hint}.`, code, endpointOf(url), { cause: e });
}

/** Runs `fn` in one transaction on one connection; rolls back on any error. */
export async function inTransaction<T>(pool: Pick<pg.Pool, 'connect'>, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  // A connection whose ROLLBACK fails is in an unknown state: it is destroyed, not reused.
  let broken = false;
  try {
    await client.query('BEGIN');
    const out = await fn(client);
    await client.query('COMMIT');
    return out;
  } catch (e) {
    await client.query('ROLLBACK').catch(() => (broken = true));
    throw e;
  } finally {
    client.release(broken);
  }
}

/** What the store's parts query through: the pool, or one connection inside a transaction. */
export interface Queryable {
  query<R extends pg.QueryResultRow>(sql: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
}

/**
 * The pool as the store uses it once started: every call waits for the start-up migration, fails
 * at once while the database is known to be down (instead of each request waiting for a connect
 * timeout), and turns a lost or refused connection into a StoreUnavailableError (a 503 at the
 * HTTP boundary). Any other error (a constraint, a bug) passes through unchanged.
 */
export class GuardedPool implements Queryable {
  constructor(
    private readonly pool: pg.Pool,
    private readonly ready: Promise<void>,
    private readonly health: PostgresHealth,
  ) {}

  async query<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.#guard(() => this.pool.query<R>(sql, params));
  }

  async transaction<T>(fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    return this.#guard(() => inTransaction(this.pool, fn));
  }

  async #guard<T>(call: () => Promise<T>): Promise<T> {
    await this.ready;
    this.health.check();
    try {
      const out = await call();
      this.health.answered();
      return out;
    } catch (e) {
      throw this.health.failed(e);
    }
  }
}
