import type { LogRow } from '../observe/log-row.js';
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

export interface LogStore {
  insertLogs(rows: readonly LogRow[]): Promise<void>;
  getLog(id: string): Promise<LogRow | undefined>;
  queryLogs(q: LogQuery): Promise<{ rows: LogRow[]; next_cursor: string | null }>;
}

export interface Store extends SpendStore, LogStore {
  listConfigs(): Promise<StoredConfig[]>;
  putConfig(c: StoredConfig): Promise<void>;
  deleteConfig(id: string): Promise<boolean>;
  createKey(key: NewKey, secretHash: string, prefix: string): Promise<KeyRecord>;
  findKeyBySecretHash(hash: string): Promise<SecretMatch | undefined>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  listKeys(filter?: { workspace?: string; includeRevoked?: boolean }): Promise<KeyRecord[]>;
  revokeKey(id: string, at: string): Promise<KeyRecord | undefined>;
  /** Adds a new secret; every older secret of the key stays valid until `oldValidUntil`. */
  updateKey(id: string, patch: KeyPolicyPatch): Promise<KeyRecord | undefined>;
  rotateKey(id: string, newHash: string, newPrefix: string, at: string, oldValidUntil: string): Promise<KeyRecord | undefined>;
  close(): Promise<void>;
}
