import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { readIfExists, type CoreFs } from './io.js';
import { editSettings, parseSettings, valueAt, writeFileAtomic, type SettingEdit, type SettingPath, type Settings } from './settings.js';

/**
 * What a settings file held before connect, so that disconnect can put it back. The record lives
 * in the user's Claude directory, never next to a project file: a backup of
 * `.claude/settings.local.json` beside it could be committed with the key inside.
 *
 * Disconnect restores the exact previous bytes (and mode) while the file is still what connect
 * wrote. If the developer has edited it since, it restores key by key instead: keys that did not
 * exist are removed, keys that existed get their old values back, the rest stays.
 */

export interface PriorValue {
  path: SettingPath;
  existed: boolean;
  value?: unknown;
}

export interface BackupRecord {
  version: 1;
  file: string;
  created_at: string;
  /** The file's bytes before the first connect (null: it did not exist). */
  original: string | null;
  original_mode: number | null;
  /** False once the file changed between two connects: the original bytes would undo those changes. */
  exact: boolean;
  /** SHA-256 of what connect last wrote. */
  written_sha256: string;
  /** Whether the `env` object existed before, so that one connect created can go too. */
  env_existed: boolean;
  entries: PriorValue[];
}

export const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');
const samePath = (a: SettingPath, b: SettingPath): boolean => a.length === b.length && a.every((k, i) => k === b[i]);

export function backupFileFor(storeDir: string, file: string): string {
  return join(storeDir, `${sha256(file).slice(0, 16)}.json`);
}

export async function loadRecord(fs: CoreFs, storeDir: string, file: string): Promise<BackupRecord | null> {
  const text = await readIfExists(fs, backupFileFor(storeDir, file));
  if (text === null) return null;
  const rec = JSON.parse(text) as BackupRecord;
  return rec.version === 1 && rec.file === file ? rec : null;
}

export async function saveRecord(fs: CoreFs, storeDir: string, rec: BackupRecord): Promise<string> {
  const at = backupFileFor(storeDir, rec.file);
  await writeFileAtomic(fs, at, `${JSON.stringify(rec, null, 2)}\n`, 0o600);
  return at;
}

export async function dropRecord(fs: CoreFs, storeDir: string, file: string): Promise<void> {
  await fs.unlink(backupFileFor(storeDir, file)).catch(() => undefined);
}

/**
 * The record after a connect that writes `paths`: the first connect's record is kept (running
 * connect again must not make the connected state the "before"); paths new to this connect are
 * added with what the file holds now.
 */
export function nextRecord(prev: BackupRecord | null, at: { file: string; text: string | null; mode: number | null; now: Date }, paths: readonly SettingPath[], written: string): BackupRecord {
  const data: Settings = parseSettings(at.file, at.text);
  const rec: BackupRecord = prev
    ? { ...prev, entries: [...prev.entries], exact: prev.exact && at.text !== null && sha256(at.text) === prev.written_sha256 }
    : { version: 1, file: at.file, created_at: at.now.toISOString(), original: at.text, original_mode: at.mode, exact: true, written_sha256: '', env_existed: data.env !== undefined, entries: [] };
  for (const path of paths) {
    if (rec.entries.some((e) => samePath(e.path, path))) continue;
    const value = valueAt(data, path);
    rec.entries.push(value === undefined ? { path, existed: false } : { path, existed: true, value });
  }
  if (!rec.exact) rec.original = null;
  rec.written_sha256 = written;
  return rec;
}

/** Edits that give `entries` their recorded values back. */
export function restoringEdits(entries: readonly PriorValue[]): SettingEdit[] {
  return entries.map((e) => ({ path: e.path, value: e.existed ? e.value : undefined }));
}

export interface Restored {
  /** `exact`: the previous bytes; `keys`: key by key; `gone`: the file no longer exists, nothing to do. */
  how: 'exact' | 'keys' | 'gone';
  file: string;
}

/** Puts the file back as the record says and forgets the record. */
export async function restore(fs: CoreFs, storeDir: string, rec: BackupRecord): Promise<Restored> {
  const file = rec.file;
  const text = await readIfExists(fs, file);
  let how: Restored['how'];
  if (text === null) how = 'gone';
  else if (rec.exact && sha256(text) === rec.written_sha256) {
    how = 'exact';
    if (rec.original === null) await fs.unlink(file);
    else await writeFileAtomic(fs, file, rec.original, rec.original_mode ?? 0o600);
  } else {
    how = 'keys';
    let out = editSettings(file, text, restoringEdits(rec.entries)).text;
    const env = valueAt(parseSettings(file, out), ['env']);
    if (!rec.env_existed && typeof env === 'object' && env !== null && Object.keys(env).length === 0) out = editSettings(file, out, [{ path: ['env'], value: undefined }]).text;
    await writeFileAtomic(fs, file, out, rec.original_mode ?? 0o600);
  }
  await dropRecord(fs, storeDir, file);
  return { how, file };
}
