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
  expires_at: string | null;
  created_at: string;
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
  updated_at: string;
}

export interface Store {
  listConfigs(): Promise<StoredConfig[]>;
  putConfig(c: StoredConfig): Promise<void>;
  deleteConfig(id: string): Promise<boolean>;
  createKey(key: NewKey, secretHash: string, prefix: string): Promise<KeyRecord>;
  findKeyBySecretHash(hash: string): Promise<SecretMatch | undefined>;
  getKey(id: string): Promise<KeyRecord | undefined>;
  listKeys(filter?: { workspace?: string; includeRevoked?: boolean }): Promise<KeyRecord[]>;
  revokeKey(id: string, at: string): Promise<KeyRecord | undefined>;
  /** Adds a new secret; every older secret of the key stays valid until `oldValidUntil`. */
  rotateKey(id: string, newHash: string, newPrefix: string, at: string, oldValidUntil: string): Promise<KeyRecord | undefined>;
  close(): Promise<void>;
}
