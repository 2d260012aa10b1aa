import { createHash, timingSafeEqual } from 'node:crypto';
import { base62 } from '../wire/ids.js';
import { errors } from '../wire/errors.js';
import type { KeyRecord } from '../store/types.js';
import type { KeyCache } from './key-cache.js';

/**
 * Gatehouse keys: `ghk_` + 43 base62 characters (~256 bits). Only a SHA-256 of the key is stored:
 * with that much entropy a slow password hash buys nothing and would cost every request time.
 */
export const KEY_PREFIX = 'ghk_';
const PREFIX_SHOWN = KEY_PREFIX.length + 6;

export const newKeySecret = (): string => KEY_PREFIX + base62(43);
export const newKeyId = (): string => `key_${base62(16)}`;
export const hashSecret = (secret: string): string => createHash('sha256').update(secret).digest('hex');
export const visiblePrefix = (secret: string): string => secret.slice(0, PREFIX_SHOWN);

/** Constant-time comparison of two SHA-256 hex digests (the admin key is not in the database). */
export function hashesEqual(a: string, b: string): boolean {
  return a.length === b.length && timingSafeEqual(Buffer.from(a, 'hex'), Buffer.from(b, 'hex'));
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** Parses `30d`, `12h`, `90m`, `2w`; returns milliseconds or undefined. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+)\s*([smhdw])$/.exec(text.trim());
  return m ? Number(m[1]) * UNITS[m[2]!]! : undefined;
}

/** Resolves a presented secret (and its hash) to its key, or throws the 401 that says which case it is. */
export async function authenticateKey(keys: KeyCache, secret: string, hash: string, now: Date = new Date()): Promise<KeyRecord> {
  const shown = visiblePrefix(secret);
  const match = await keys.find(hash, now.getTime());
  if (!match) throw errors.unknownKey(shown);
  const { key } = match;
  const iso = now.toISOString();
  if (key.revoked_at !== null) throw errors.revokedKey(shown, key.revoked_at);
  if (key.expires_at !== null && key.expires_at <= iso) throw errors.expiredKey(shown, key.expires_at);
  if (match.valid_until !== null && match.valid_until <= iso) throw errors.rotatedKey(shown, match.valid_until);
  return key;
}
