import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { LogRow } from '../observe/log-row.js';
import type { LogQuery } from './log-query.js';
import { SqliteAnalytics } from './sqlite-analytics.js';
import { BODY_MIGRATION, SqliteBodies, type BodyEntry, type StoredBodies } from './sqlite-bodies.js';
import { LOG_MIGRATION, SqliteLogs } from './sqlite-logs.js';
import type { AdminKeyRecord, AnalyticsQuery, AnalyticsRow, KeyPolicyPatch, KeyRecord, LogFilter, ModelUsage, NewKey, SecretMatch, SpendRow, Store, StoredConfig, StoredPolicy, StoredProvider, PolicyKind } from './types.js';

/** Ordered migrations; `PRAGMA user_version` records how many have run. */
const MIGRATIONS = [
  `CREATE TABLE keys (
     id TEXT PRIMARY KEY,
     name TEXT NOT NULL,
     workspace TEXT NOT NULL,
     provider TEXT,
     config TEXT,
     metadata TEXT NOT NULL DEFAULT '{}',
     created_at TEXT NOT NULL,
     expires_at TEXT,
     revoked_at TEXT,
     rotated_at TEXT
   );
   CREATE INDEX keys_workspace ON keys(workspace);
   CREATE TABLE key_secrets (
     hash TEXT PRIMARY KEY,
     key_id TEXT NOT NULL REFERENCES keys(id),
     prefix TEXT NOT NULL,
     created_at TEXT NOT NULL,
     valid_until TEXT
   );
   CREATE INDEX key_secrets_key ON key_secrets(key_id);`,
  `ALTER TABLE keys ADD COLUMN allow_inline_config INTEGER NOT NULL DEFAULT 0;`,
  `CREATE TABLE configs (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);`,
  `ALTER TABLE keys ADD COLUMN allowed_models TEXT;
   ALTER TABLE keys ADD COLUMN required_metadata TEXT NOT NULL DEFAULT '[]';`,
  `ALTER TABLE keys ADD COLUMN rpm INTEGER;
   ALTER TABLE keys ADD COLUMN max_concurrent INTEGER;`,
  `ALTER TABLE keys ADD COLUMN tpm INTEGER;
   ALTER TABLE keys ADD COLUMN budget_usd REAL;
   ALTER TABLE keys ADD COLUMN budget_tokens INTEGER;
   ALTER TABLE keys ADD COLUMN budget_period TEXT NOT NULL DEFAULT 'month';
   CREATE TABLE spend (scope TEXT NOT NULL, unit TEXT NOT NULL, period TEXT NOT NULL, amount REAL NOT NULL, updated_at TEXT NOT NULL, PRIMARY KEY (scope, unit, period));
   ALTER TABLE configs ADD COLUMN workspace TEXT;
   CREATE TABLE budget_alerts (scope TEXT NOT NULL, unit TEXT NOT NULL, period TEXT NOT NULL, threshold REAL NOT NULL, at TEXT NOT NULL, PRIMARY KEY (scope, unit, period, threshold));`,
  LOG_MIGRATION,
  BODY_MIGRATION,
  `CREATE TABLE admin_keys (id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, hash TEXT NOT NULL UNIQUE, prefix TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);`,
  `CREATE TABLE providers (id TEXT PRIMARY KEY, kind TEXT NOT NULL, settings TEXT NOT NULL, secret BLOB NOT NULL, updated_at TEXT NOT NULL);`,
  `CREATE TABLE workspaces (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);
   CREATE TABLE guardrails (id TEXT PRIMARY KEY, body TEXT NOT NULL, updated_at TEXT NOT NULL);`,
];

/** The table of each kind of admin-API policy. */
const POLICY_TABLES = { workspace: 'workspaces', guardrail: 'guardrails' } as const satisfies Record<PolicyKind, string>;

interface KeyRow {
  id: string;
  name: string;
  workspace: string;
  provider: string | null;
  config: string | null;
  metadata: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_at: string | null;
  allow_inline_config: number;
  allowed_models: string | null;
  required_metadata: string;
  rpm: number | null;
  max_concurrent: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_tokens: number | null;
  budget_period: KeyRecord['budget_period'];
  prefix: string;
}

const toKey = (r: KeyRow): KeyRecord => ({
  ...r,
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  allow_inline_config: r.allow_inline_config === 1,
  allowed_models: r.allowed_models === null ? null : (JSON.parse(r.allowed_models) as string[]),
  required_metadata: JSON.parse(r.required_metadata) as string[],
});

// The current prefix is the one of the newest secret.
const KEY_SELECT = `SELECT k.*, (SELECT s.prefix FROM key_secrets s WHERE s.key_id = k.id ORDER BY s.created_at DESC, s.rowid DESC LIMIT 1) AS prefix FROM keys k`;

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  private readonly stmts;
  private readonly logs: SqliteLogs;
  private readonly bodies: SqliteBodies;
  private readonly analytics: SqliteAnalytics;

  constructor(dataDir: string) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    this.db = new Database(join(dataDir, 'gatehouse.db'));
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    this.migrate();
    this.logs = new SqliteLogs(this.db);
    this.bodies = new SqliteBodies(this.db);
    this.analytics = new SqliteAnalytics(this.db);
    this.stmts = {
      insertKey: this.db.prepare(
        `INSERT INTO keys (id, name, workspace, provider, config, metadata, allow_inline_config, allowed_models, required_metadata, rpm, max_concurrent, tpm, budget_usd, budget_tokens, budget_period, created_at, expires_at)
         VALUES (@id, @name, @workspace, @provider, @config, @metadata, @allow_inline_config, @allowed_models, @required_metadata, @rpm, @max_concurrent, @tpm, @budget_usd, @budget_tokens, @budget_period, @created_at, @expires_at)`,
      ),
      insertSecret: this.db.prepare(`INSERT INTO key_secrets (hash, key_id, prefix, created_at, valid_until) VALUES (?, ?, ?, ?, NULL)`),
      bySecret: this.db.prepare(`SELECT key_id, prefix, valid_until FROM key_secrets WHERE hash = ?`),
      get: this.db.prepare(`${KEY_SELECT} WHERE k.id = ?`),
      listAll: this.db.prepare(`${KEY_SELECT} ORDER BY k.created_at DESC`),
      listWs: this.db.prepare(`${KEY_SELECT} WHERE k.workspace = ? ORDER BY k.created_at DESC`),
      revoke: this.db.prepare(`UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`),
      expireOld: this.db.prepare(`UPDATE key_secrets SET valid_until = ? WHERE key_id = ? AND (valid_until IS NULL OR valid_until > ?)`),
      markRotated: this.db.prepare(`UPDATE keys SET rotated_at = ? WHERE id = ?`),
      listConfigs: this.db.prepare(`SELECT id, body, workspace, updated_at FROM configs ORDER BY id`),
      putConfig: this.db.prepare(
        `INSERT INTO configs (id, body, workspace, updated_at) VALUES (@id, @body, @workspace, @updated_at) ON CONFLICT(id) DO UPDATE SET body = excluded.body, workspace = excluded.workspace, updated_at = excluded.updated_at`,
      ),
      deleteConfig: this.db.prepare(`DELETE FROM configs WHERE id = ?`),
      listProviders: this.db.prepare(`SELECT id, kind, settings, secret, updated_at FROM providers ORDER BY id`),
      putProvider: this.db.prepare(
        `INSERT INTO providers (id, kind, settings, secret, updated_at) VALUES (@id, @kind, @settings, @secret, @updated_at) ON CONFLICT(id) DO UPDATE SET kind = excluded.kind, settings = excluded.settings, secret = excluded.secret, updated_at = excluded.updated_at`,
      ),
      deleteProvider: this.db.prepare(`DELETE FROM providers WHERE id = ?`),
      policies: {
        workspace: this.policyStatements(POLICY_TABLES.workspace),
        guardrail: this.policyStatements(POLICY_TABLES.guardrail),
      },
      getSpend: this.db.prepare(`SELECT amount FROM spend WHERE scope = ? AND unit = ? AND period = ?`),
      addSpend: this.db.prepare(
        `INSERT INTO spend (scope, unit, period, amount, updated_at) VALUES (@scope, @unit, @period, @amount, @at)
         ON CONFLICT(scope, unit, period) DO UPDATE SET amount = amount + excluded.amount, updated_at = excluded.updated_at`,
      ),
      listSpend: this.db.prepare(`SELECT scope, unit, period, amount FROM spend WHERE scope LIKE ? ESCAPE '\\' AND (? IS NULL OR period = ?) ORDER BY scope, unit, period`),
      claimAlert: this.db.prepare(`INSERT OR IGNORE INTO budget_alerts (scope, unit, period, threshold, at) VALUES (?, ?, ?, ?, ?)`),
    };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    for (let i = version; i < MIGRATIONS.length; i++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[i]!);
        this.db.pragma(`user_version = ${i + 1}`);
      })();
    }
  }

  async createKey(key: NewKey, secretHash: string, prefix: string): Promise<KeyRecord> {
    this.db.transaction(() => {
      this.stmts.insertKey.run({
        ...key,
        metadata: JSON.stringify(key.metadata),
        allow_inline_config: key.allow_inline_config ? 1 : 0,
        allowed_models: key.allowed_models === null ? null : JSON.stringify(key.allowed_models),
        required_metadata: JSON.stringify(key.required_metadata),
      });
      this.stmts.insertSecret.run(secretHash, key.id, prefix, key.created_at);
    })();
    return (await this.getKey(key.id))!;
  }

  async findKeyBySecretHash(hash: string): Promise<SecretMatch | undefined> {
    const s = this.stmts.bySecret.get(hash) as { key_id: string; prefix: string; valid_until: string | null } | undefined;
    if (!s) return undefined;
    const key = await this.getKey(s.key_id);
    return key && { key, prefix: s.prefix, valid_until: s.valid_until };
  }

  async getKey(id: string): Promise<KeyRecord | undefined> {
    const row = this.stmts.get.get(id) as KeyRow | undefined;
    return row && toKey(row);
  }

  async listKeys(filter: { workspace?: string; includeRevoked?: boolean } = {}): Promise<KeyRecord[]> {
    const rows = (filter.workspace ? this.stmts.listWs.all(filter.workspace) : this.stmts.listAll.all()) as KeyRow[];
    return rows.map(toKey).filter((k) => filter.includeRevoked !== false || k.revoked_at === null);
  }

  async revokeKey(id: string, at: string): Promise<KeyRecord | undefined> {
    this.stmts.revoke.run(at, id);
    return this.getKey(id);
  }

  async rotateKey(id: string, newHash: string, newPrefix: string, at: string, oldValidUntil: string): Promise<KeyRecord | undefined> {
    if (!(await this.getKey(id))) return undefined;
    this.db.transaction(() => {
      this.stmts.expireOld.run(oldValidUntil, id, oldValidUntil);
      this.stmts.insertSecret.run(newHash, id, newPrefix, at);
      this.stmts.markRotated.run(at, id);
    })();
    return this.getKey(id);
  }

  async updateKey(id: string, patch: KeyPolicyPatch): Promise<KeyRecord | undefined> {
    const cols: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(patch)) {
      if (v === undefined) continue;
      cols[k] = k === 'metadata' || k === 'required_metadata' || (k === 'allowed_models' && v !== null) ? JSON.stringify(v) : k === 'allow_inline_config' ? (v ? 1 : 0) : v;
    }
    const names = Object.keys(cols);
    // Column names come from the typed patch's own keys, never from the request.
    if (names.length) this.db.prepare(`UPDATE keys SET ${names.map((n) => `${n} = @${n}`).join(', ')} WHERE id = @id`).run({ ...cols, id });
    return this.getKey(id);
  }

  async getSpend(scope: string, unit: 'usd' | 'tokens', period: string): Promise<number> {
    const row = this.stmts.getSpend.get(scope, unit, period) as { amount: number } | undefined;
    return row?.amount ?? 0;
  }

  async addSpend(rows: readonly SpendRow[]): Promise<void> {
    if (!rows.length) return;
    const at = new Date().toISOString();
    this.db.transaction(() => {
      for (const r of rows) this.stmts.addSpend.run({ ...r, at });
    })();
  }

  async listSpend(filter: { scopePrefix?: string; period?: string } = {}): Promise<SpendRow[]> {
    const like = (filter.scopePrefix ?? '').replace(/[\\%_]/g, (c) => '\\' + c) + '%';
    return this.stmts.listSpend.all(like, filter.period ?? null, filter.period ?? null) as SpendRow[];
  }

  async claimAlert(scope: string, unit: 'usd' | 'tokens', period: string, threshold: number, at: string): Promise<boolean> {
    return this.stmts.claimAlert.run(scope, unit, period, threshold, at).changes > 0;
  }

  async listConfigs(): Promise<StoredConfig[]> {
    return this.stmts.listConfigs.all() as StoredConfig[];
  }

  async putConfig(c: StoredConfig): Promise<void> {
    this.stmts.putConfig.run(c);
  }

  async deleteConfig(id: string): Promise<boolean> {
    return this.stmts.deleteConfig.run(id).changes > 0;
  }

  async listProviders(): Promise<StoredProvider[]> {
    return this.stmts.listProviders.all() as StoredProvider[];
  }

  async putProvider(p: StoredProvider): Promise<void> {
    this.stmts.putProvider.run(p);
  }

  async deleteProvider(id: string): Promise<boolean> {
    return this.stmts.deleteProvider.run(id).changes > 0;
  }

  async listPolicies(kind: PolicyKind): Promise<StoredPolicy[]> {
    return this.stmts.policies[kind].list.all() as StoredPolicy[];
  }

  async putPolicy(kind: PolicyKind, p: StoredPolicy): Promise<void> {
    this.stmts.policies[kind].put.run(p);
  }

  async deletePolicy(kind: PolicyKind, id: string): Promise<boolean> {
    return this.stmts.policies[kind].delete.run(id).changes > 0;
  }

  private policyStatements(table: (typeof POLICY_TABLES)[PolicyKind]) {
    return {
      list: this.db.prepare(`SELECT id, body, updated_at FROM ${table} ORDER BY id`),
      put: this.db.prepare(`INSERT INTO ${table} (id, body, updated_at) VALUES (@id, @body, @updated_at) ON CONFLICT(id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at`),
      delete: this.db.prepare(`DELETE FROM ${table} WHERE id = ?`),
    };
  }

  async insertLogs(rows: readonly LogRow[]): Promise<void> {
    this.logs.insert(rows);
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
    this.bodies.insert(entries);
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
    this.db.prepare(`INSERT INTO admin_keys (id, name, role, hash, prefix, created_at) VALUES (@id, @name, @role, @hash, @prefix, @created_at)`).run({ ...k, hash });
    return { ...k, revoked_at: null };
  }

  async findAdminKey(hash: string): Promise<AdminKeyRecord | undefined> {
    return this.db.prepare(`SELECT id, name, role, prefix, created_at, revoked_at FROM admin_keys WHERE hash = ?`).get(hash) as AdminKeyRecord | undefined;
  }

  async listAdminKeys(): Promise<AdminKeyRecord[]> {
    return this.db.prepare(`SELECT id, name, role, prefix, created_at, revoked_at FROM admin_keys ORDER BY created_at`).all() as AdminKeyRecord[];
  }

  async revokeAdminKey(id: string, at: string): Promise<AdminKeyRecord | undefined> {
    this.db.prepare(`UPDATE admin_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL`).run(at, id);
    return this.db.prepare(`SELECT id, name, role, prefix, created_at, revoked_at FROM admin_keys WHERE id = ?`).get(id) as AdminKeyRecord | undefined;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
