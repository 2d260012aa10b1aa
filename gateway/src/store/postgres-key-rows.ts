import type { KeyPolicyPatch, KeyRecord } from './types.js';

/** How keys and admin keys are read from and written to their PostgreSQL tables. */
export interface KeyRow extends Omit<KeyRecord, 'metadata' | 'allowed_models' | 'required_metadata'> {
  metadata: string;
  allowed_models: string | null;
  required_metadata: string;
}

export const toKey = (r: KeyRow): KeyRecord => ({
  ...r,
  metadata: JSON.parse(r.metadata) as Record<string, string>,
  allowed_models: r.allowed_models === null ? null : (JSON.parse(r.allowed_models) as string[]),
  required_metadata: JSON.parse(r.required_metadata) as string[],
});

// The columns in SqliteStore's `k.*` order, so records serialise identically; the current prefix
// is the newest secret's. `seq` breaks ties of equal times in insertion order, as SQLite's rowid does.
export const KEY_SELECT = `SELECT k.id, k.name, k.workspace, k.provider, k.config, k.metadata, k.created_at, k.expires_at, k.revoked_at, k.rotated_at,
  k.allow_inline_config, k.allowed_models, k.required_metadata, k.rpm, k.max_concurrent, k.tpm, k.budget_usd, k.budget_tokens, k.budget_period,
  (SELECT s.prefix FROM key_secrets s WHERE s.key_id = k.id ORDER BY s.created_at DESC, s.seq DESC LIMIT 1) AS prefix FROM keys k`;
export const ADMIN_SELECT = 'SELECT id, name, role, prefix, created_at, revoked_at FROM admin_keys';

/** Columns `updateKey` may set, with how a value is stored. */
export const KEY_COLUMNS: Readonly<Record<keyof KeyPolicyPatch, (v: unknown) => unknown>> = {
  name: (v) => v,
  provider: (v) => v,
  config: (v) => v,
  metadata: (v) => JSON.stringify(v),
  allow_inline_config: (v) => v === true,
  allowed_models: (v) => (v === null ? null : JSON.stringify(v)),
  required_metadata: (v) => JSON.stringify(v),
  rpm: (v) => v,
  max_concurrent: (v) => v,
  tpm: (v) => v,
  budget_usd: (v) => v,
  budget_tokens: (v) => v,
  budget_period: (v) => v,
  expires_at: (v) => v,
};
