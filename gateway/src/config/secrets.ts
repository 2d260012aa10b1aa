import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { SecretRef } from './schema.js';

/**
 * Secret references are resolved once at start. A missing secret is not fatal: the gateway still
 * starts (a fresh machine has no credentials) and whoever needs it gets `missing`, a sentence
 * telling the admin exactly what to set.
 */
export type Resolved = { ok: true; value: string } | { ok: false; missing: string };

export function resolveSecret(ref: SecretRef, baseDir: string, env: NodeJS.ProcessEnv = process.env): Resolved {
  if (ref.startsWith('env:')) {
    const name = ref.slice(4);
    const value = env[name];
    return value !== undefined && value.trim() !== ''
      ? { ok: true, value: value.trim() }
      : { ok: false, missing: `set the environment variable ${name}.` };
  }
  const path = ref.slice(5);
  const full = isAbsolute(path) ? path : resolve(baseDir, path);
  try {
    const value = readFileSync(full, 'utf8').trim();
    return value ? { ok: true, value } : { ok: false, missing: `the file ${full} is empty.` };
  } catch (e) {
    return { ok: false, missing: `the file ${full} cannot be read (${(e as NodeJS.ErrnoException).code ?? 'error'}).` };
  }
}
