// Runs the pinned Claude Code CLI headless, the way reference/clients.md found reliable: a fresh
// HOME and working directory per run, a fully specified environment, stdin closed, a hard time limit.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync } from 'node:fs';
import { join, resolve } from 'node:path';

const CLAUDE = resolve(import.meta.dirname, '../../node_modules/.bin/claude');
/** Per claude run; the vitest limit per test is above it so a hung CLI fails with its output shown. */
const RUN_TIMEOUT_MS = 45_000;

export interface ClaudeRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  cwd: string;
  ms: number;
}

export interface RunOptions {
  token: string;
  baseUrl: string;
  env?: Record<string, string>;
  maxRetries?: 0 | 1;
}

/** A runner whose runs live under `scratch`. */
export function claudeRunner(scratch: string): (args: string[], opts: RunOptions) => Promise<ClaudeRun> {
  let runNo = 0;
  return (args, opts) => runClaude(scratch, ++runNo, args, opts);
}

/** Runs `claude <args>` once, headless, in a fresh HOME and working directory. */
function runClaude(scratch: string, runNo: number, args: string[], opts: RunOptions): Promise<ClaudeRun> {
  const home = join(scratch, `home-${runNo}`);
  const cwd = join(scratch, `work-${runNo}`);
  mkdirSync(home);
  mkdirSync(cwd);
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: home,
    ANTHROPIC_BASE_URL: opts.baseUrl,
    ANTHROPIC_AUTH_TOKEN: opts.token,
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: String(opts.maxRetries ?? 0),
    ...opts.env,
  };
  return spawnClaude(args, cwd, env);
}

/** Runs the pinned `claude` with exactly this environment, stdin closed, under a hard time limit. */
function spawnClaude(args: string[], cwd: string, env: Record<string, string>): Promise<ClaudeRun> {
  const started = Date.now();
  return new Promise((done, fail) => {
    const child = spawn(CLAUDE, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    child.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, RUN_TIMEOUT_MS);
    child.once('error', (err) => {
      clearTimeout(timer);
      fail(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const run = { code, signal, stdout, stderr, cwd, ms: Date.now() - started };
      if (timedOut) fail(new Error(`claude ${args.join(' ')} ran over ${RUN_TIMEOUT_MS} ms\n${describeRun(run)}`));
      else done(run);
    });
  });
}

export function describeRun(r: ClaudeRun): string {
  return `exit=${r.code} signal=${r.signal} after ${r.ms} ms\n--- stdout\n${r.stdout.slice(0, 4000)}\n--- stderr\n${r.stderr.slice(0, 4000)}`;
}

/** `--output-format json`: one JSON object on stdout. */
export function resultOf(r: ClaudeRun): Record<string, unknown> {
  try {
    return JSON.parse(r.stdout) as Record<string, unknown>;
  } catch {
    throw new Error(`stdout is not one JSON object\n${describeRun(r)}`);
  }
}

/** `--output-format stream-json --verbose`: one JSON event a line. */
export function eventsOf(r: ClaudeRun): Array<Record<string, unknown>> {
  return r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => {
    try {
      return JSON.parse(l) as Record<string, unknown>;
    } catch {
      throw new Error(`not a JSON line: ${l}\n${describeRun(r)}`);
    }
  });
}

export function expectExit(r: ClaudeRun, ok: boolean): void {
  if ((r.code === 0) !== ok) throw new Error(`expected claude to ${ok ? 'succeed' : 'fail'}\n${describeRun(r)}`);
}


export interface SettingsRunOptions {
  /** A HOME prepared beforehand (by `gatehouse connect`), used as it is. */
  home: string;
  env?: Record<string, string>;
  maxRetries?: 0 | 1;
}

/**
 * Runs `claude <args>` once, headless, taking the gateway from `<home>/.claude/settings.json`:
 * unlike the runner above it sets no ANTHROPIC_* variable, so only the settings file can point
 * Claude Code at the gateway. The working directory is fresh, under `scratch`.
 */
export function runClaudeWithSettings(scratch: string, args: string[], opts: SettingsRunOptions): Promise<ClaudeRun> {
  const cwd = mkdtempSync(join(scratch, 'work-'));
  const env: Record<string, string> = {
    PATH: '/usr/bin:/bin',
    HOME: opts.home,
    DISABLE_TELEMETRY: '1',
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    CLAUDE_CODE_MAX_RETRIES: String(opts.maxRetries ?? 0),
    ...opts.env,
  };
  return spawnClaude(args, cwd, env);
}
