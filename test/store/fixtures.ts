// Stores and data for the store contract suites: the same calls against SQLite and PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { PostgresStore } from '../../gateway/src/store/postgres.js';
import { SqliteStore } from '../../gateway/src/store/sqlite.js';
import type { NewKey, Store } from '../../gateway/src/store/types.js';
import { testDatabase } from '../helpers/postgres-test-db.js';

export type StoreKind = 'sqlite' | 'postgres';
export const STORE_KINDS: readonly StoreKind[] = ['sqlite', 'postgres'];

export interface OpenedStore {
  store: Store;
  /** Another Store on the same data (a second instance: for PostgreSQL, a second pool). */
  twin(): Store;
  close(): Promise<void>;
}

export async function openStore(kind: StoreKind): Promise<OpenedStore> {
  if (kind === 'sqlite') {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-store-'));
    const opened: Store[] = [new SqliteStore(dir)];
    return {
      store: opened[0]!,
      twin: () => opened[opened.push(new SqliteStore(dir)) - 1]!,
      async close() {
        for (const s of opened) await s.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  const url = await testDatabase();
  const first = new PostgresStore({ url, pool_size: 5 });
  await first.ready();
  const opened: Store[] = [first];
  return {
    store: first,
    twin: () => opened[opened.push(new PostgresStore({ url, pool_size: 5 })) - 1]!,
    async close() {
      for (const s of opened) await s.close();
    },
  };
}

const BASE = Date.parse('2026-03-02T10:00:00.000Z');
export const at = (minutes: number) => new Date(BASE + minutes * 60_000).toISOString();

export function logRow(i: number, over: Partial<LogRow> = {}): LogRow {
  return {
    id: `log-${String(i).padStart(3, '0')}`,
    created_at: at(i * 7),
    trace_id: `t${i % 4}`,
    session_id: i % 3 === 0 ? null : `s${i % 5}`,
    workspace: i % 2 ? 'default' : 'payments',
    key_id: `key-${i % 3}`,
    key_name: `name ${i % 3}`,
    metadata: {},
    endpoint: 'messages',
    stream: i % 2 === 0,
    model: null,
    served_model: null,
    provider: 'anthropic',
    upstream_request_id: `req_${i}`,
    route_path: 'config',
    retries: 0,
    cache_status: null,
    status: 200,
    outcome: 'ok',
    error_type: null,
    error_code: null,
    error_message: null,
    input_tokens: 100 + i * 13,
    output_tokens: 10 + (i % 7) * 5,
    cache_read_input_tokens: i % 4 === 0 ? 1000 : 0,
    cache_creation_input_tokens: i % 5 === 0 ? 250 : 0,
    usage_final: true,
    cost_usd: 0.000123 * (i + 1),
    latency_ms: 120.5 + ((i * 37) % 50) * 9.25,
    ttft_ms: i % 6 === 0 ? null : 40 + ((i * 11) % 17),
    guardrails: [],
    user_agent: 'claude-cli/2.1',
    ...over,
  };
}

const TEAMS = ['red', 'blue', 'green-ops', undefined] as const;
const MODELS = ['claude-sonnet-5-5', 'claude-haiku-5-5', null] as const;

/** 60 rows over about 7 hours: metadata combinations, missing values, errors, unpriced rows, equal times. */
export function logBatch(): LogRow[] {
  return Array.from({ length: 60 }, (_, i) => {
    const team = TEAMS[i % 4];
    const metadata: Record<string, string> = { ...(team ? { team } : {}), env: i % 3 ? 'prod' : 'dev', ...(i % 10 === 0 ? { 'user.email': 'ann@example.com' } : {}) };
    return logRow(i, {
      metadata,
      model: MODELS[i % 3] ?? null,
      status: i % 11 === 0 ? 500 : i % 13 === 0 ? 429 : 200,
      outcome: i % 11 === 0 || i % 13 === 0 ? 'error' : 'ok',
      cost_usd: i % 9 === 0 ? null : 0.000123 * (i + 1),
      // Two rows at the same instant: paging must still be exact.
      ...(i === 31 ? { created_at: at(30 * 7) } : {}),
    });
  });
}

export function newKey(id: string, over: Partial<NewKey> = {}): NewKey {
  return {
    id,
    name: `key ${id}`,
    workspace: 'default',
    provider: null,
    config: null,
    metadata: { team: 'red', 'cost-center': '42' },
    allow_inline_config: false,
    allowed_models: null,
    required_metadata: [],
    rpm: null,
    max_concurrent: null,
    tpm: null,
    budget_usd: null,
    budget_tokens: null,
    budget_period: 'month',
    expires_at: null,
    created_at: at(0),
    ...over,
  };
}
