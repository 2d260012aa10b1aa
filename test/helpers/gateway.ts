import type { FastifyInstance } from 'fastify';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import { parseConfigText } from '../../gateway/src/config/load.js';
import { buildApp } from '../../gateway/src/server/app.js';
import { closeRuntime, createRuntime, type Runtime } from '../../gateway/src/server/runtime.js';
import { PostgresStore } from '../../gateway/src/store/postgres.js';
import { testDatabase } from './postgres-test-db.js';

export interface TestGateway {
  url: string;
  adminKey: string;
  runtime: Runtime;
  app: FastifyInstance;
  dataDir: string;
  admin<T = unknown>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
  createKey(body?: Record<string, unknown>): Promise<KeyWithSecret>;
  close(): Promise<void>;
}

export const ADMIN_KEY = 'gha_test_admin_key_0123456789';

export type TestStore = 'sqlite' | 'postgres';

/** The store a suite's gateways use: GATEHOUSE_TEST_STORE, set by the `postgres` vitest project. */
export const testStore = (): TestStore => (process.env.GATEHOUSE_TEST_STORE === 'postgres' ? 'postgres' : 'sqlite');

/**
 * On PostgreSQL, a gateway gets a fresh database, remembered in its data directory so a restart
 * on the same `dataDir` finds the same data.
 */
async function storeSection(kind: TestStore, dir: string): Promise<{ config: Record<string, unknown>; env: Record<string, string> }> {
  if (kind === 'sqlite') return { config: {}, env: {} };
  const marker = join(dir, 'test-database-url');
  const url = existsSync(marker) ? readFileSync(marker, 'utf8') : await testDatabase();
  writeFileSync(marker, url);
  return { config: { store: { kind: 'postgres', url: 'env:GATEHOUSE_TEST_DATABASE_URL', pool_size: 4 } }, env: { GATEHOUSE_TEST_DATABASE_URL: url } };
}

/**
 * Starts a real gateway on a loopback port from a config object (as it would be written in the
 * file), with a throw-away data directory; or with `dataDir`, on that one, which `close` leaves
 * in place (for restarts on the same data). `store` picks the database (default: `testStore()`),
 * unless the config has its own `store` section.
 */
export async function startGateway(config: Record<string, unknown>, env: Record<string, string> = {}, dataDir?: string, store: TestStore = testStore()): Promise<TestGateway> {
  const ownDir = dataDir === undefined;
  const dir = dataDir ?? mkdtempSync(join(tmpdir(), 'gatehouse-test-'));
  const file = join(dir, 'gatehouse.jsonc');
  const db = 'store' in config ? { config: {}, env: {} } : await storeSection(store, dir);
  const loaded = { file, dir, config: parseConfigText(JSON.stringify({ ...config, ...db.config }), file) };
  const runtime = createRuntime(loaded, { dataDir: dir, env: { GATEHOUSE_ADMIN_KEY: ADMIN_KEY, ...db.env, ...env } });
  // A suite meant for PostgreSQL must never pass on SQLite by accident.
  if (loaded.config.store?.kind === 'postgres' && !(runtime.store instanceof PostgresStore)) throw new Error('the gateway did not open the PostgreSQL store');
  const { app, shutdown } = await buildApp(runtime, { logLevel: 'silent' }).catch(async (e: unknown) => {
    await closeRuntime(runtime);
    throw e;
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('gateway did not bind');
  const url = `http://127.0.0.1:${addr.port}`;

  const admin = async <T>(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown) => {
    const res = await fetch(url + path, {
      method,
      headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers };
  };

  return {
    url,
    adminKey: ADMIN_KEY,
    runtime,
    app,
    dataDir: dir,
    admin,
    async createKey(body = {}) {
      const r = await admin<KeyWithSecret>('POST', '/api/admin/keys', { name: 'test', ...body });
      if (r.status !== 201) throw new Error(`key creation failed: ${r.status} ${JSON.stringify(r.body)}`);
      return r.body;
    },
    async close() {
      // The same graceful path as `gatehouse serve`, with a short grace for test speed.
      await shutdown(250);
      await closeRuntime(runtime);
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A config with one Anthropic provider pointing at an emulator. */
export function anthropicConfig(emulatorUrl: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    providers: { anthropic: { kind: 'anthropic', api_key: 'env:TEST_ANTHROPIC_KEY', base_url: emulatorUrl } },
    default_provider: 'anthropic',
    ...extra,
  };
}
