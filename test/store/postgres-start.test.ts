// Starting the PostgreSQL store: the config section, migrations when instances start together,
// a clear message (with no password) when the server cannot be reached, and a server restart.
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../gateway/src/config/load.js';
import { openStore, storeConfig } from '../../gateway/src/store/open.js';
import { PostgresStore } from '../../gateway/src/store/postgres.js';
import { SqliteStore } from '../../gateway/src/store/sqlite.js';
import { startGateway } from '../helpers/gateway.js';
import { PgCluster } from '../helpers/postgres.js';
import { testDatabase } from '../helpers/postgres-test-db.js';
import { logRow } from './fixtures.js';

const loaded = (config: unknown) => ({ file: '/x/gatehouse.jsonc', dir: '/x', config: parseConfigText(JSON.stringify(config), '/x/gatehouse.jsonc') });

function problems(config: unknown): string[] {
  try {
    loaded(config);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

/** A port nothing listens on. */
const closedPort = () =>
  new Promise<number>((resolve) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => resolve(typeof addr === 'object' && addr ? addr.port : 1));
    });
  });

describe('the store section', () => {
  it('takes sqlite or postgres with a secret reference, and names each problem by path', () => {
    expect(loaded({}).config.store).toBeUndefined();
    expect(loaded({ store: { kind: 'postgres', url: 'env:DATABASE_URL' } }).config.store).toEqual({ kind: 'postgres', url: 'env:DATABASE_URL', pool_size: 10 });
    expect(problems({ store: { kind: 'postgres', url: 'postgres://u:hunter2@db/gh' } })).toEqual([expect.stringMatching(/^store\.url: write secrets as a reference/)]);
    expect(problems({ store: { kind: 'postgres', url: 'env:DATABASE_URL', pool_size: 0, statement_timeout_ms: -1, ssl: true } })).toEqual(
      expect.arrayContaining([expect.stringMatching(/^store\.pool_size: /), expect.stringMatching(/^store\.statement_timeout_ms: /), 'store.ssl: unknown key (check the spelling)']),
    );
    expect(problems({ store: { kind: 'mysql' } })).toEqual(['store.kind: kind must be one of: "sqlite", "postgres"']);
  });

  it('selects PostgreSQL from GATEHOUSE_DATABASE_URL only when the file has no store section', () => {
    expect(storeConfig(loaded({}), {})).toEqual({ kind: 'sqlite' });
    expect(storeConfig(loaded({}), { GATEHOUSE_DATABASE_URL: 'postgres://db/gh' })).toMatchObject({ kind: 'postgres', url: 'env:GATEHOUSE_DATABASE_URL' });
    expect(storeConfig(loaded({ store: { kind: 'sqlite' } }), { GATEHOUSE_DATABASE_URL: 'postgres://db/gh' })).toEqual({ kind: 'sqlite' });
  });

  it('names the missing reference, never a value', () => {
    expect(() => openStore(loaded({ store: { kind: 'postgres', url: 'env:NO_SUCH_URL' } }), '/nonexistent', {})).toThrow('store.url (env:NO_SUCH_URL) cannot be resolved: set the environment variable NO_SUCH_URL.');
  });
});

describe('starting', () => {
  it('tells which server failed and what to check, without the password', async () => {
    const port = await closedPort();
    const store = new PostgresStore({ url: `postgres://gate:hunter2@127.0.0.1:${port}/gatehouse`, pool_size: 2 });
    const err = await store.ready().then(() => undefined, (e: unknown) => e as Error & { code?: string });
    expect(err?.message).toBe(`PostgreSQL store: opening 127.0.0.1:${port}, database "gatehouse" as user "gate" failed (ECONNREFUSED); check that PostgreSQL is running and listens on that host and port (listen_addresses, firewall).`);
    // Every call reports the same, as buildApp's first load would.
    await expect(store.listConfigs()).rejects.toThrow(/ECONNREFUSED/);
    await store.close();
  });

  it('stops a gateway start with that message, having closed what it opened', async () => {
    const port = await closedPort();
    const config = { store: { kind: 'postgres', url: 'env:DB_URL' } };
    await expect(startGateway(config, { DB_URL: `postgres://gate:hunter2@127.0.0.1:${port}/gatehouse` })).rejects.toThrow(`PostgreSQL store: opening 127.0.0.1:${port}, database "gatehouse" as user "gate" failed (ECONNREFUSED)`);
  });

  it('names a database that does not exist', async () => {
    const url = new URL(await testDatabase());
    url.pathname = '/gh_missing';
    url.password = 's3cret-pw';
    const store = new PostgresStore({ url: url.toString(), pool_size: 1 });
    const err = await store.ready().then(() => undefined, (e: unknown) => e as Error);
    expect(err?.message).toMatch(/^PostgreSQL store: opening 127\.0\.0\.1:\d+, database "gh_missing" as user "postgres" failed \(3D000: database "gh_missing" does not exist\); create the database first/);
    expect(err?.message).not.toContain('s3cret-pw');
    await store.close();
  });

  it('migrates once when several instances start together, and again finds nothing to do', async () => {
    const url = await testDatabase();
    const stores = Array.from({ length: 4 }, () => new PostgresStore({ url, pool_size: 2 }));
    await Promise.all(stores.map((s) => s.ready()));
    await stores[0]!.insertLogs([logRow(1)]);
    const again = new PostgresStore({ url, pool_size: 1 });
    await again.ready();
    expect(await again.getLog('log-001')).toEqual(logRow(1));
    for (const s of [...stores, again]) await s.close();
  });

  it('opens SQLite by default', async () => {
    const s = openStore(loaded({}), `/tmp/gatehouse-open-${process.pid}`, {});
    expect(s).toBeInstanceOf(SqliteStore);
    await s.close();
  });
});

describe('a server restart', () => {
  let cluster: PgCluster | undefined;
  afterAll(() => cluster?.destroy());

  it('fails calls while the server is down and recovers without restarting the gateway', async () => {
    const started = Date.now();
    cluster = await PgCluster.create();
    const startMs = Date.now() - started;
    const store = new PostgresStore({ url: cluster.adminUrl, pool_size: 2 });
    await store.insertLogs([logRow(1)]);
    cluster.stop();
    await expect(store.getLog('log-001')).rejects.toThrow();
    cluster.start();
    // The pool dropped the dead connections; the next call opens a new one on the same data.
    expect(await store.getLog('log-001')).toEqual(logRow(1));
    await store.close();
    expect(startMs).toBeLessThan(30_000);
  });
});
