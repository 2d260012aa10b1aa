import { execFile } from 'node:child_process';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';

/**
 * What the core needs from the machine, passed in rather than imported, so that unit tests can
 * run it on an in-memory file system and the VS Code glue can hand in its own fetch and logger.
 */

export interface CoreFs {
  /** Rejects with code ENOENT when the file does not exist. */
  readFile(path: string): Promise<string>;
  /** Creates a new file (fails if it exists) with this mode. */
  writeFile(path: string, data: string, mode: number): Promise<void>;
  rename(from: string, to: string): Promise<void>;
  unlink(path: string): Promise<void>;
  /** Recursive; a directory that exists is left as it is. */
  mkdir(path: string, mode: number): Promise<void>;
  chmod(path: string, mode: number): Promise<void>;
  stat(path: string): Promise<{ mode: number }>;
  readdir(path: string): Promise<string[]>;
  realpath(path: string): Promise<string>;
}

export const nodeFs: CoreFs = {
  readFile: (p) => fsp.readFile(p, 'utf8'),
  writeFile: (p, data, mode) => fsp.writeFile(p, data, { mode, flag: 'wx' }),
  rename: (a, b) => fsp.rename(a, b),
  unlink: (p) => fsp.unlink(p),
  mkdir: async (p, mode) => {
    await fsp.mkdir(p, { recursive: true, mode });
  },
  chmod: (p, mode) => fsp.chmod(p, mode),
  stat: (p) => fsp.stat(p),
  readdir: (p) => fsp.readdir(p),
  realpath: (p) => fsp.realpath(p),
};

export type FetchLike = (url: string, init?: RequestInit) => Promise<Response>;

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** A spawn failure such as ENOENT (the program is not installed). */
  error?: string;
}

export type Exec = (file: string, args: string[], opts?: { cwd?: string; timeoutMs?: number }) => Promise<ExecResult>;

/** Runs a program without a shell; never rejects (a missing program is `error: 'ENOENT'`). */
export const nodeExec: Exec = (file, args, opts = {}) =>
  new Promise((resolve) => {
    execFile(file, args, { cwd: opts.cwd, timeout: opts.timeoutMs ?? 10_000, windowsHide: true }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (e && typeof e.code === 'string') resolve({ code: null, stdout: String(stdout), stderr: String(stderr), error: e.code });
      else resolve({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });

/** Where the developer is: home, project directory, environment and OS decide which files apply. */
export interface Place {
  home: string;
  /** The project: Claude Code reads `.claude/settings*.json` from the directory it starts in. */
  cwd: string;
  env: Readonly<Record<string, string | undefined>>;
  platform: NodeJS.Platform;
  /** Where managed settings files are looked for; the OS's place unless set (tests). */
  managedDir?: string;
}

export interface CoreIo extends Place {
  fs: CoreFs;
  fetch: FetchLike;
  exec: Exec;
}

/** `~/.claude`, or where CLAUDE_CONFIG_DIR moves it (Claude Code reads its user settings there). */
export function claudeDir(p: Place): string {
  return p.env.CLAUDE_CONFIG_DIR?.trim() || join(p.home, '.claude');
}

export function errnoOf(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

export const isMissing = (e: unknown): boolean => errnoOf(e) === 'ENOENT' || errnoOf(e) === 'ENOTDIR';

/** The file's text, or null when it does not exist. */
export async function readIfExists(fs: CoreFs, path: string): Promise<string | null> {
  try {
    return await fs.readFile(path);
  } catch (e) {
    if (isMissing(e)) return null;
    throw e;
  }
}

/** Shortens a secret for display: enough to recognise it, never enough to use it. */
export function redact(secret: string): string {
  return secret.length <= 12 ? '…' : `${secret.slice(0, 10)}…`;
}
