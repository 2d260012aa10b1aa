import type pg from 'pg';
import type { LogRow } from '../observe/log-row.js';
import type { LogQuery } from './log-query.js';
import { PostgresAnalytics } from './postgres-analytics.js';
import { PostgresBodies } from './postgres-bodies.js';
import { PostgresLogs } from './postgres-logs.js';
import { migrate } from './postgres-migrations.js';
import { PostgresHealth } from './postgres-health.js';
import { ADMIN_SELECT, KEY_COLUMNS, KEY_SELECT, toKey, type KeyRow } from './postgres-key-rows.js';
import { connectionError, createPool, describeTarget, endpointOf, GuardedPool, type PostgresOptions } from './postgres-pool.js';
import type { BodyEntry, StoredBodies } from './sqlite-bodies.js';
import type { AdminKeyRecord, AnalyticsQuery, AnalyticsRow, KeyPolicyPatch, KeyRecord, LogFilter, ModelUsage, NewKey, PolicyKind, SecretMatch, SpendRow, Store, StoredConfig, StoredPolicy, StoredProvider } from './types.js';

/**
 * The Store on PostgreSQL, for several gateway instances sharing one database. Same observable
 * behaviour as SqliteStore (the contract suite in test/store runs both): same rows, same order,
 * same paging. Every write that must be atomic is one statement or one transaction.
 *
 * The constructor returns at once and connects in the background (the runtime is built
 * synchronously); every method waits for that, so a database that cannot be reached fails the
 * first call, which at start is `buildApp` loading the stored providers, with a clear message.
 */

/** The table of each kind of admin-API policy. */
const POLICY_TABLES = { workspace: 'workspaces', guardrail: 'guardrails' } as const satisfies Record<PolicyKind, string>;


export class PostgresStore implements Store {
  private readonly pool: pg.Pool;
  /** The pool every call goes through once started (ready, health, 503-class errors). */
  private readonly db: GuardedPool;
  private readonly health: PostgresHealth;
  private readonly logs: PostgresLogs;
  private readonly bodies: PostgresBodies;
  private readonly analytics: PostgresAnalytics;
  readonly #ready: Promise<void>;
  #closed = false;

  constructor(opts: PostgresOptions) {
    this.pool = createPool(opts);
    this.#ready = migrate(this.pool).catch((e: unknown) => {
      throw connectionError(opts.url, e, 'opening');
    });
    // Reported by the first call that awaits it; unobserved until then.
    this.#ready.catch(() => undefined);
    const log = (level: 'warn' | 'info', msg: string) => console.error(JSON.stringify({ level, msg }));
    this.health = new PostgresHealth({ endpoint: endpointOf(opts.url), target: describeTarget(opts.url), probe: async () => void (await this.pool.query('SELECT 1')), log });
    this.db = new GuardedPool(this.pool, this.#ready, this.health);
    this.logs = new PostgresLogs(this.db);
    this.bodies = new PostgresBodies(this.db);
    this.analytics = new PostgresAnalytics(this.db);
  }

  /** For /readyz: whether the server answers now (waits at most a couple of seconds). */
  async reachable(): Promise<{ ok: true } | { ok: false; reason: string }> {
    const started = await this.#ready.then(() => true, () => false);
    return started ? this.health.reachable() : { ok: false, reason: 'the PostgreSQL store did not start (see the gateway log)' };
  }

  /** Resolves once connected and migrated; rejects with a StoreUnavailableError. */
  ready(): Promise<void> {
    return this.#ready;
  }

  private q<R extends pg.QueryResultRow>(sql: string, params: unknown[] = []): Promise<pg.QueryResult<R>> {
    return this.db.query<R>(sql, params);
  }

  async createKey(key: NewKey, secretHash: string, prefix: string): Promise<KeyRecord> {
    await this.db.transaction(async (c) => {
      await c.query(
        `INSERT INTO keys (id, name, workspace, provider, config, metadata, allow_inline_config, allowed_models, required_metadata, rpm, max_concurrent, tpm, budget_usd, budget_tokens, budget_period, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)`,
        [key.id, key.name, key.workspace, key.provider, key.config, JSON.stringify(key.metadata), key.allow_inline_config, key.allowed_models === null ? null : JSON.stringify(key.allowed_models), JSON.stringify(key.required_metadata), key.rpm, key.max_concurrent, key.tpm, key.budget_usd, key.budget_tokens, key.budget_period, key.created_at, key.expires_at],
      );
      await c.query('INSERT INTO key_secrets (hash, key_id, prefix, created_at, valid_until) VALUES ($1, $2, $3, $4, NULL)', [secretHash, key.id, prefix, key.created_at]);
    });
    return (await this.getKey(key.id))!;
  }

  async findKeyBySecretHash(hash: string): Promise<SecretMatch | undefined> {
    const { rows } = await this.q<{ key_id: string; prefix: string; valid_until: string | null }>('SELECT key_id, prefix, valid_until FROM key_secrets WHERE hash = $1', [hash]);
    const s = rows[0];
    if (!s) return undefined;
    const key = await this.getKey(s.key_id);
    return key && { key, prefix: s.prefix, valid_until: s.valid_until };
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const { rows } = await this.q<KeyRow>(`${KEY_SELECT} WHERE k.id = $1`, [id]);
    return rows[0] && toKey(rows[0]);
  }

  async listKeys(filter: { workspace?: string; includeRevoked?: boolean } = {}): Promise<KeyRecord[]> {
    const { rows } = filter.workspace ? await this.q<KeyRow>(`${KEY_SELECT} WHERE k.workspace = $1 ORDER BY k.created_at DESC, k.seq`, [filter.workspace]) : await this.q<KeyRow>(`${KEY_SELECT} ORDER BY k.created_at DESC, k.seq`);
    return rows.map(toKey).filter((k) => filter.includeRevoked !== false || k.revoked_at === null);
  }

  async revokeKey(id: string, at: string): Promise<KeyRecord | undefined> {
    await this.q('UPDATE keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return this.getKey(id);
  }

  async rotateKey(id: string, newHash: string, newPrefix: string, at: string, oldValidUntil: string): Promise<KeyRecord | undefined> {
    if (!(await this.getKey(id))) return undefined;
    await this.db.transaction(async (c) => {
      await c.query('UPDATE key_secrets SET valid_until = $1 WHERE key_id = $2 AND (valid_until IS NULL OR valid_until > $1)', [oldValidUntil, id]);
      await c.query('INSERT INTO key_secrets (hash, key_id, prefix, created_at, valid_until) VALUES ($1, $2, $3, $4, NULL)', [newHash, id, newPrefix, at]);
      await c.query('UPDATE keys SET rotated_at = $1 WHERE id = $2', [at, id]);
    });
    return this.getKey(id);
  }

  async updateKey(id: string, patch: KeyPolicyPatch): Promise<KeyRecord | undefined> {
    const sets: string[] = [];
    const values: unknown[] = [];
    for (const [k, v] of Object.entries(patch)) {
      const store = KEY_COLUMNS[k as keyof KeyPolicyPatch];
      if (v === undefined || !store) continue;
      values.push(store(v));
      // Column names come from KEY_COLUMNS, never from the request.
      sets.push(`${k} = $${values.length}`);
    }
    if (sets.length) await this.q(`UPDATE keys SET ${sets.join(', ')} WHERE id = $${values.length + 1}`, [...values, id]);
    return this.getKey(id);
  }

  async getSpend(scope: string, unit: 'usd' | 'tokens', period: string): Promise<number> {
    const { rows } = await this.q<{ amount: number }>('SELECT amount FROM spend WHERE scope = $1 AND unit = $2 AND period = $3', [scope, unit, period]);
    return rows[0]?.amount ?? 0;
  }

  async addSpend(rows: readonly SpendRow[]): Promise<void> {
    if (!rows.length) return;
    // One statement may not update a row twice, so repeats of a scope are summed first; sorted,
    // so instances adding to the same scopes lock their rows in the same order (no deadlock).
    const sums = new Map<string, SpendRow>();
    for (const r of rows) {
      const k = JSON.stringify([r.scope, r.unit, r.period]);
      const prev = sums.get(k);
      sums.set(k, prev ? { ...prev, amount: prev.amount + r.amount } : { ...r });
    }
    const sorted = [...sums].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([, r]) => r);
    await this.q(
      `INSERT INTO spend (scope, unit, period, amount, updated_at)
       SELECT s, u, p, a, $5 FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) WITH ORDINALITY AS x(s, u, p, a, ord) ORDER BY ord
       ON CONFLICT (scope, unit, period) DO UPDATE SET amount = spend.amount + excluded.amount, updated_at = excluded.updated_at`,
      [sorted.map((r) => r.scope), sorted.map((r) => r.unit), sorted.map((r) => r.period), sorted.map((r) => r.amount), new Date().toISOString()],
    );
  }

  async listSpend(filter: { scopePrefix?: string; period?: string } = {}): Promise<SpendRow[]> {
    // LIKE's escape character is the backslash by default in PostgreSQL.
    const like = (filter.scopePrefix ?? '').replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    const { rows } = await this.q<SpendRow>('SELECT scope, unit, period, amount FROM spend WHERE scope LIKE $1 AND ($2::text IS NULL OR period = $2) ORDER BY scope, unit, period', [like, filter.period ?? null]);
    return rows;
  }

  async claimAlert(scope: string, unit: 'usd' | 'tokens', period: string, threshold: number, at: string): Promise<boolean> {
    // The primary key decides: of any number of instances, exactly one insert succeeds.
    const r = await this.q('INSERT INTO budget_alerts (scope, unit, period, threshold, at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING', [scope, unit, period, threshold, at]);
    return (r.rowCount ?? 0) > 0;
  }

  async listConfigs(): Promise<StoredConfig[]> {
    return (await this.q<StoredConfig>('SELECT id, body, workspace, updated_at FROM configs ORDER BY id')).rows;
  }

  async putConfig(c: StoredConfig): Promise<void> {
    await this.q(
      'INSERT INTO configs (id, body, workspace, updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (id) DO UPDATE SET body = excluded.body, workspace = excluded.workspace, updated_at = excluded.updated_at',
      [c.id, c.body, c.workspace, c.updated_at],
    );
  }

  async deleteConfig(id: string): Promise<boolean> {
    return ((await this.q('DELETE FROM configs WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async listProviders(): Promise<StoredProvider[]> {
    return (await this.q<StoredProvider>('SELECT id, kind, settings, secret, updated_at FROM providers ORDER BY id')).rows;
  }

  async putProvider(p: StoredProvider): Promise<void> {
    await this.q(
      'INSERT INTO providers (id, kind, settings, secret, updated_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, settings = excluded.settings, secret = excluded.secret, updated_at = excluded.updated_at',
      [p.id, p.kind, p.settings, p.secret, p.updated_at],
    );
  }

  async deleteProvider(id: string): Promise<boolean> {
    return ((await this.q('DELETE FROM providers WHERE id = $1', [id])).rowCount ?? 0) > 0;
  }

  async listPolicies(kind: PolicyKind): Promise<StoredPolicy[]> {
    return (await this.q<StoredPolicy>(`SELECT id, body, updated_at FROM ${POLICY_TABLES[kind]} ORDER BY id`)).rows;
  }

  async putPolicy(kind: PolicyKind, p: StoredPolicy): Promise<void> {
    await this.q(`INSERT INTO ${POLICY_TABLES[kind]} (id, body, updated_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`, [p.id, p.body, p.updated_at]);
  }

  async deletePolicy(kind: PolicyKind, id: string): Promise<boolean> {
    return ((await this.q(`DELETE FROM ${POLICY_TABLES[kind]} WHERE id = $1`, [id])).rowCount ?? 0) > 0;
  }

  async insertLogs(rows: readonly LogRow[]): Promise<void> {
    await this.logs.insert(rows);
  }

  async getLog(id: string): Promise<LogRow | undefined> {
    return this.logs.get(id);
  }

  async queryLogs(q: LogQuery): Promise<{ rows: LogRow[]; next_cursor: string | null }> {
    return this.logs.query(q);
  }

  async analyzeLogs(q: AnalyticsQuery): Promise<AnalyticsRow[]> {
    return this.analytics.analyze(q);
  }

  async usageByModel(f: LogFilter): Promise<ModelUsage[]> {
    return this.analytics.byModel(f);
  }

  async insertBodies(entries: readonly BodyEntry[]): Promise<void> {
    await this.bodies.insert(entries);
  }

  async getBodies(logId: string): Promise<StoredBodies | undefined> {
    return this.bodies.get(logId);
  }

  async pruneLogs(before: string): Promise<{ logs: number; bodies: number; blobs: number }> {
    return this.bodies.prune(before);
  }

  async bodyBytes(): Promise<number> {
    return this.bodies.storedBytes();
  }

  async createAdminKey(k: Omit<AdminKeyRecord, 'revoked_at'>, hash: string): Promise<AdminKeyRecord> {
    await this.q('INSERT INTO admin_keys (id, name, role, hash, prefix, created_at) VALUES ($1, $2, $3, $4, $5, $6)', [k.id, k.name, k.role, hash, k.prefix, k.created_at]);
    return { ...k, revoked_at: null };
  }

  async findAdminKey(hash: string): Promise<AdminKeyRecord | undefined> {
    return (await this.q<AdminKeyRecord>(`${ADMIN_SELECT} WHERE hash = $1`, [hash])).rows[0];
  }

  async listAdminKeys(): Promise<AdminKeyRecord[]> {
    return (await this.q<AdminKeyRecord>(`${ADMIN_SELECT} ORDER BY created_at, seq`)).rows;
  }

  async revokeAdminKey(id: string, at: string): Promise<AdminKeyRecord | undefined> {
    await this.q('UPDATE admin_keys SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL', [at, id]);
    return (await this.q<AdminKeyRecord>(`${ADMIN_SELECT} WHERE id = $1`, [id])).rows[0];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.health.close();
    await this.#ready.catch(() => undefined);
    await this.pool.end();
  }
}
