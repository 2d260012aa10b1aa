import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Provider credentials created through the admin API are stored sealed with AES-256-GCM under a
 * data key: GATEHOUSE_SECRET_KEY (base64 of 32 bytes), else one generated once into
 * `<data>/secret.key` (mode 0600), as the admin key is.
 */
export interface DataKey {
  readonly key: Buffer;
  /** Where the key came from, for error messages (never the key itself). */
  readonly source: string;
}

export const SECRET_KEY_ENV = 'GATEHOUSE_SECRET_KEY';
const IV_BYTES = 12;
const TAG_BYTES = 16;

function decodeKey(text: string, where: string): Buffer {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  // Buffer.from ignores characters outside the alphabet; re-encoding shows whether any were there.
  if (key.length !== 32 || key.toString('base64') !== trimmed) {
    throw new Error(`${where} must be 32 random bytes in base64 (44 characters, e.g. the output of "openssl rand -base64 32").`);
  }
  return key;
}

export function resolveDataKey(dataDir: string, env: NodeJS.ProcessEnv): DataKey {
  const fromEnv = env[SECRET_KEY_ENV];
  if (fromEnv !== undefined && fromEnv.trim() !== '') return { key: decodeKey(fromEnv, `The environment variable ${SECRET_KEY_ENV}`), source: `the environment variable ${SECRET_KEY_ENV}` };
  const file = join(dataDir, 'secret.key');
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  if (!existsSync(file)) writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return { key: decodeKey(readFileSync(file, 'utf8'), `The key file ${file}`), source: `the key file ${file} (${SECRET_KEY_ENV} is not set)` };
}

/**
 * `iv (12) | tag (16) | ciphertext`. `aad` binds the blob to its row (the provider id), so a
 * blob copied to another row does not open.
 */
export function seal(dk: DataKey, plaintext: string, aad: string): Buffer {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', dk.key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), body]);
}

/** The plaintext, or undefined when the blob was not sealed with this key (or was altered). */
export function open(dk: DataKey, blob: Buffer, aad: string): string | undefined {
  if (blob.length < IV_BYTES + TAG_BYTES) return undefined;
  try {
    const decipher = createDecipheriv('aes-256-gcm', dk.key, blob.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(blob.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([decipher.update(blob.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8');
  } catch {
    return undefined;
  }
}
