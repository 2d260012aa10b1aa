import type { LogRow } from '../observe/log-row.js';
import type { BodyEntry, StoredBodies } from './sqlite-bodies.js';
import type { LogQuery } from './log-query.js';

/**
 * Persistence behind one interface. SQLite is the embedded default; PostgreSQL joins for
 * multi-instance deployments, so every method is async even where SQLite would not need it.
 */

export interface KeyRecord {
  id: string;
  name: string;
  workspace: string;
  /** Default provider slug for requests that name none. */
  provider: string | null;
  /** Default routing config id. */
  config: string | null;
  metadata: Record<string, string>;
  /** May send routing configs inline in `x-portkey-config`. */
  allow_inline_config: boolean;
  /** Model patterns (`claude-sonnet-*`) this key may ask for; null for any. */
  allowed_models: string[] | null;
  /** Metadata fields every request must carry (after the key's own are merged in). */
  required_metadata: string[];
  /** Requests per minute, and requests in flight at once; null for no limit. */
  rpm: number | null;
  max_concurrent: number | null;
  /** Tokens per minute; null for no limit. */
  tpm: number | null;
  /** The key's own budget: USD and/or tokens per period; null for none. */
  budget_usd: number | null;
  budget_tokens: number | null;
  budget_period: 'day' | 'week' | 'month' | 'lifetime';
  /** The first characters of the current secret, shown so people can recognise a key. */
  prefix: string;
  created_at: string;
  expires_at: string | null;
  revoked_at: string | null;
  rotated_at: string | null;
}

export interface NewKey {
  id: string;
  name: string;
  workspace: string;
  provider: string | null;
  config: string | null;
  metadata: Record<string, string>;
  allow_inline_config: boolean;
  allowed_models: string[] | null;
  required_metadata: string[];
  rpm: number | null;
  max_concurrent: number | null;
  tpm: number | null;
  budget_usd: number | null;
  budget_tokens: number | null;
  budget_period: 'day' | 'week' | 'month' | 'lifetime';
  expires_at: string | null;
  created_at: string;
}

/** What the policy fields of a key may be changed to after creation. */
export type KeyPolicyPatch = Partial<
  Pick<NewKey, 'name' | 'provider' | 'config' | 'metadata' | 'allow_inline_config' | 'allowed_models' | 'required_metadata' | 'rpm' | 'max_concurrent' | 'tpm' | 'budget_usd' | 'budget_tokens' | 'budget_period' | 'expires_at'>
>;

/** Spend per budget scope and period, kept across restarts. */
export interface SpendRow {
  scope: string;
  unit: 'usd' | 'tokens';
  period: string;
  amount: number;
}

export interface SpendStore {
  getSpend(scope: string, unit: 'usd' | 'tokens', period: string): Promise<number>;
  addSpend(rows: readonly SpendRow[]): Promise<void>;
  listSpend(filter?: { scopePrefix?: string; period?: string }): Promise<SpendRow[]>;
  /** True the first time a threshold of a budget's period is claimed, false after (alerts go out once). */
  claimAlert(scope: string, unit: 'usd' | 'tokens', period: string, threshold: number, at: string): Promise<boolean>;
}

/** A secret that authenticates as a key. After rotation the old secret lives on until `valid_until`. */
export interface SecretMatch {
  key: KeyRecord;
  prefix: string;
  valid_until: string | null;
}

/** A routing config created through the admin API (the file's own configs are not stored). */
export interface StoredConfig {
  id: string;
  body: string;
  /** Only keys of this workspace may use it; null for every workspace. */
  workspace: string | null;
  updated_at: string;
}

/** A provider created through the admin API; `secret` is its credentials, sealed (secret-box.ts). */
export interface StoredProvider {
  id: string;
  kind: string;
  /** JSON of the settings without the credentials. */
  settings: string;
  secret: Buffer;
  updated_at: string;
}

/** A workspace or guardrail created through the admin API: its definition as JSON. */
export interface StoredPolicy {
  id: string;
  body: string;
  updated_at: string;
}

/** Which admin-API policy table a StoredPolicy belongs to. */
export type PolicyKind = 'workspace' | 'guardrail';

/** The filters of a log query without its paging. */
export type LogFilter = Omit<LogQuery, 'limit' | 'cursor'>;

/** What analytics can group by: an indexed column, or any metadata field (`metadata.team`). */
export type AnalyticsDimension = 'model' | 'provider' | 'key_id' | 'workspace' | 'status' | `metadata.${string}`;

export interface AnalyticsQuery {
  filter: LogFilter & { since: string; until: string };
  group_by: readonly AnalyticsDimension[];
  /** UTC hours or days of `created_at`; `none` for one bucket over the whole range. */
  bucket: 'hour' | 'day' | 'none';
}

/** Sums over a set of log rows. `cost_usd` leaves out the `unpriced_requests` (never counted as $0). */
export interface UsageSums {
  requests: number;
  /** Rows with status >= 400. */
  errors: number;
  cost_usd: number;
  unpriced_requests: number;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
}

/** Nearest-rank percentiles; null when no row of the group has the value. */
export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface AnalyticsRow extends UsageSums {
  /** Start of the UTC hour or day (ISO); null with `bucket: none`. */
  bucket: string | null;
  /** One entry per dimension of `group_by`; null where a row has no value (a metadata field it lacks). */
  group: Record<string, string | number | null>;
  latency_ms: Percentiles;
  ttft_ms: Percentiles;
}

/** Sums for one requested model (null: the request named none), with its first and last row. */
export interface ModelUsage extends UsageSums {
  model: string | null;
  first_at: string;
  last_at: string;
}

export interface LogStore {
  insertLogs(rows: readonly LogRow[]): Promise<void>;
  getLog(id: string): Promise<LogRow | undefined>;
  queryLogs(q: LogQuery): Promise<{ rows: LogRow[]; next_cursor: string | null }>;
  /** Sums and latency percentiles per time bucket and group, oldest bucket first. */
  analyzeLogs(q: AnalyticsQuery): Promise<AnalyticsRow[]>;
  /** Sums per requested model over the matching rows, in order of first use. */
  usageByModel(f: LogFilter): Promise<ModelUsage[]>;
}

/** A key for the admin API; `read_only` may only read. Only the SHA-256 of the secret is stored. */
export interface AdminKeyRecord {
  id: string;
  name: string;
  role: 'admin' | 'read_only';
  prefix: string;
  created_at: string;
  revoked_at: string | null;
}

export interface AdminKeyStore {
  createAdminKey(k: Omit<AdminKeyRecord, 'revoked_at'>, hash: string): Promise<AdminKeyRecord>;
  findAdminKey(hash: string): Promise<AdminKeyRecord | undefined>;
  listAdminKeys(): Promise<AdminKeyRecord[]>;
  revokeAdminKey(id: string, at: string): Promise<AdminKeyRecord | undefined>;
}

/** Logged request and response bodies, stored by content, and retention. */
export interface BodyStore {
  insertBodies(entries: readonly BodyEntry[]): Promise<void>;
  getBodies(logId: string): Promise<StoredBodies | undefined>;
  /** Deletes log rows and bodies created before `before`, and blocks no body needs any more. */
  pruneLogs(before: string): Promise<{ logs: number; bodies: number; blobs: number }>;
  bodyBytes(): Promise<number>;
}

export interface Store extends SpendStore, LogStore, BodyStore, AdminKeyStore {
  listConfigs(): Promise<StoredConfig[]>;
  putConfig(c: StoredConfig): Promise<void>;
  deleteConfig(id: string): Promise<boolean>;
  listProviders(): Promise<StoredProvider[]>;
  putProvider(p: StoredProvider): Promise<void>;
  deleteProvider(id: string): Promise<boolean>;
  listPolicies(kind: PolicyKind): Promise<StoredPolicy[]>;
  putPolicy(kind: PolicyKind, p: StoredPolicy): Promise<void>;
  deletePolicy(kind: PolicyKind, id: string): Promise<boolean>;
  createKey(key: NewKey, secretHash: string, prefix: string): Promise<KeyRecord>;
  findKeyBySecretHash(hash: string): Promise<SecretMatch | undefined>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  listKeys(filter?: { workspace?: string; includeRevoked?: boolean }): Promise<KeyRecord[]>;
  revokeKey(id: string, at: string): Promise<KeyRecord | undefined>;
  /** Adds a new secret; every older secret of the key stays valid until `oldValidUntil`. */
  updateKey(id: string, patch: KeyPolicyPatch): Promise<KeyRecord | undefined>;
  rotateKey(id: string, newHash: string, newPrefix: string, at: string, oldValidUntil: string): Promise<KeyRecord | undefined>;
  /** For /readyz: whether a database server answers. Absent for the embedded store (always there). */
  reachable?(): Promise<{ ok: true } | { ok: false; reason: string }>;
  close(): Promise<void>;
}
