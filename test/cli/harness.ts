// Drives the built CLI (`gateway/bin/gatehouse.js`) as real child processes over real sockets.
// Every process and temp directory made here is tracked so `cleanup()` (afterEach) removes it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request, type Agent, type IncomingHttpHeaders } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const BIN = join(REPO_ROOT, 'gateway', 'bin', 'gatehouse.js');
export const EXAMPLE_CONFIG = join(REPO_ROOT, 'gatehouse.example.jsonc');

/** Generous: a 2-core CI machine running other suites in parallel can be slow to start node. */
export const START_TIMEOUT_MS = 20_000;

// Variables from the developer's shell that would change what the CLI does.
const SCRUBBED = [
  'ANTHROPIC_API_KEY', 'ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_BASE_URL',
  'GATEHOUSE_ADMIN_KEY', 'GATEHOUSE_URL', 'GATEHOUSE_DATA', 'GATEHOUSE_LOG_LEVEL',
];

/** process.env without anything Gatehouse- or Anthropic-specific, plus `extra`. */
export function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of SCRUBBED) delete env[k];
  return { ...env, ...extra };
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const noop = (): void => undefined;

/** A spawned `gatehouse` process with its output captured as it arrives. */
export class Proc {
  readonly child: ChildProcess;
  readonly exited: Promise<Exit>;
  stdout = '';
  stderr = '';
  exit: Exit | undefined;
  readonly #watchers = new Set<() => void>();

  constructor(args: string[], env: NodeJS.ProcessEnv, cwd: string) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout?.setEncoding('utf8').on('data', (s: string) => { this.stdout += s; this.#notify(); });
    this.child.stderr?.setEncoding('utf8').on('data', (s: string) => { this.stderr += s; this.#notify(); });
    this.exited = new Promise<Exit>((res) => {
      // 'close' (not 'exit') so all output has been read by then.
      this.child.once('close', (code, signal) => {
        this.exit = { code, signal };
        this.#notify();
        res(this.exit);
      });
      this.child.once('error', (err) => {
        this.stderr += `\n[spawn error] ${err.message}`;
        this.exit = { code: null, signal: null };
        this.#notify();
        res(this.exit);
      });
    });
    live.add(this);
    void this.exited.then(() => live.delete(this));
  }

  #notify(): void {
    for (const w of [...this.#watchers]) w();
  }

  describe(): string {
    return `exit=${JSON.stringify(this.exit ?? 'running')}\n--- stdout ---\n${this.stdout}\n--- stderr ---\n${this.stderr}`;
  }

  /** Resolves with the first match of `re` in stdout/stderr; rejects if the process exits first or on timeout. */
  waitFor(stream: 'stdout' | 'stderr', re: RegExp, timeoutMs = START_TIMEOUT_MS): Promise<RegExpExecArray> {
    return new Promise((resolvePromise, reject) => {
      const check = (): void => {
        const m = re.exec(this[stream]);
        if (m) return finish(() => resolvePromise(m));
        if (this.exit) return finish(() => reject(new Error(`process ended before ${stream} matched ${re}\n${this.describe()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`waited ${timeoutMs} ms for ${stream} to match ${re}\n${this.describe()}`))), timeoutMs);
      const finish = (then: () => void): void => {
        clearTimeout(timer);
        this.#watchers.delete(check);
        then();
      };
      this.#watchers.add(check);
      check();
    });
  }

  /** The exit, or a rejection naming the output if it takes longer than `timeoutMs`. */
  async waitExit(timeoutMs: number): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`process still running after ${timeoutMs} ms\n${this.describe()}`)), timeoutMs);
    });
    try {
      return await Promise.race([this.exited, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  signal(sig: NodeJS.Signals): void {
    this.child.kill(sig);
  }
}

const live = new Set<Proc>();
const tempDirs = new Set<string>();

export function makeTempDir(label = 'cli'): string {
  const dir = mkdtempSync(join(tmpdir(), `gatehouse-${label}-`));
  tempDirs.add(dir);
  return dir;
}

/** Writes `text` (JSONC, or an object as JSON) to `<dir>/<name>` and returns the path. */
export function writeConfig(dir: string, content: string | Record<string, unknown>, name = 'gatehouse.jsonc'): string {
  const file = join(dir, name);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content, null, 2));
  return file;
}

/** afterEach: SIGKILL whatever is still running (only processes this file started), then delete temp dirs. */
export async function cleanup(): Promise<void> {
  const running = [...live];
  for (const p of running) if (!p.exit) p.child.kill('SIGKILL');
  await Promise.all(running.map((p) => p.exited));
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
  tempDirs.clear();
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `gatehouse <args>` to completion. */
export async function runCli(args: string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  const p = new Proc(args, env, opts.cwd ?? makeTempDir('cwd'));
  const exit = await p.waitExit(opts.timeoutMs ?? START_TIMEOUT_MS);
  return { ...exit, stdout: p.stdout, stderr: p.stderr };
}

/** Parses the single JSON document a `--json` command printed, failing with the whole output if it is not one. */
export function parseJsonOut<T>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`expected JSON on stdout; code=${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
  }
}

export interface Served {
  proc: Proc;
  url: string;
  port: number;
}

const BANNER = /^Gatehouse \S+ listening on (http:\/\/[^\s:]+:(\d+))$/m;

/** Starts `gatehouse serve <args>` and waits for the banner line, which names the real port. */
export async function startServe(args: string[], env: NodeJS.ProcessEnv, cwd?: string): Promise<Served> {
  const proc = new Proc(['serve', ...args], env, cwd ?? makeTempDir('cwd'));
  const m = await proc.waitFor('stdout', BANNER);
  // The banner is printed in one console.log; wait for its last line too so tests see all of it.
  await proc.waitFor('stdout', /ANTHROPIC_BASE_URL=.*claude\n/);
  return { proc, url: m[1]!, port: Number(m[2]) };
}

/** A loopback port with nothing listening on it (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(0, '127.0.0.1', () => res());
  });
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  await new Promise<void>((res) => server.close(() => res()));
  return port;
}

export interface HttpResult {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
  /** `false` (the default) opens a new connection that closes after the response. */
  agent?: Agent | false;
  timeoutMs?: number;
}

function send(url: string, opts: HttpOptions) {
  const headers: Record<string, string> = { ...opts.headers };
  if (opts.body !== undefined) headers['content-length'] = String(Buffer.byteLength(opts.body));
  const req = request(url, { method: opts.method ?? 'GET', headers, agent: opts.agent ?? false });
  req.setTimeout(opts.timeoutMs ?? 15_000, () => req.destroy(new Error(`no answer from ${url} within ${opts.timeoutMs ?? 15_000} ms`)));
  req.end(opts.body);
  return req;
}

/** One HTTP exchange with the whole body read. Rejects on a transport error (ECONNREFUSED and the like). */
export function http(url: string, opts: HttpOptions = {}): Promise<HttpResult> {
  return new Promise((resolvePromise, reject) => {
    const req = send(url, opts);
    req.once('error', reject);
    req.once('response', (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (s: string) => { body += s; });
      res.once('end', () => resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.once('error', reject);
    });
  });
}

export interface StreamEnd {
  text: string;
  /** The response ended normally (not cut off). */
  complete: boolean;
  error: string | undefined;
}

export interface StreamingCall {
  response: Promise<{ status: number; headers: IncomingHttpHeaders }>;
  firstChunk: Promise<string>;
  /** Never rejects: a cut-off stream resolves with `complete: false`. */
  done: Promise<StreamEnd>;
  text(): string;
  /** Resolves once the body so far matches `re`; rejects if the response ends first or on timeout. */
  waitForText(re: RegExp, timeoutMs?: number): Promise<void>;
  destroy(): void;
}

/** Starts a request and exposes its response as it streams in. */
export function streamingCall(url: string, opts: HttpOptions = {}): StreamingCall {
  let text = '';
  let gotResponse = false;
  let resolveResponse!: (r: { status: number; headers: IncomingHttpHeaders }) => void;
  let rejectResponse!: (e: Error) => void;
  let resolveFirst!: (s: string) => void;
  let rejectFirst!: (e: Error) => void;
  let resolveDone!: (e: StreamEnd) => void;
  const response = new Promise<{ status: number; headers: IncomingHttpHeaders }>((res, rej) => { resolveResponse = res; rejectResponse = rej; });
  const firstChunk = new Promise<string>((res, rej) => { resolveFirst = res; rejectFirst = rej; });
  const done = new Promise<StreamEnd>((res) => { resolveDone = res; });
  // Callers may await only some of these; a failure must not surface as an unhandled rejection.
  response.catch(noop);
  firstChunk.catch(noop);

  const watchers = new Set<() => void>();
  const notify = (): void => { for (const w of [...watchers]) w(); };
  let settled = false;
  const finish = (complete: boolean, error?: Error): void => {
    if (settled) return;
    settled = true;
    notify();
    const e = error ?? (complete ? undefined : new Error('the response closed before it ended'));
    if (!gotResponse) rejectResponse(e ?? new Error('no response'));
    if (text === '') rejectFirst(e ?? new Error('the response had no body'));
    resolveDone({ text, complete, error: e?.message });
  };

  const req = send(url, { ...opts, timeoutMs: opts.timeoutMs ?? 60_000 });
  req.once('error', (e) => finish(false, e));
  req.once('response', (res) => {
    gotResponse = true;
    resolveResponse({ status: res.statusCode ?? 0, headers: res.headers });
    res.setEncoding('utf8');
    res.on('data', (s: string) => {
      if (text === '') resolveFirst(s);
      text += s;
      notify();
    });
    res.once('end', () => finish(true));
    res.once('error', (e) => finish(false, e));
    res.once('close', () => finish(res.complete));
  });
  const waitForText = (re: RegExp, timeoutMs = 15_000): Promise<void> =>
    new Promise((resolvePromise, reject) => {
      const check = (): void => {
        if (re.test(text)) end(() => resolvePromise());
        else if (settled) end(() => reject(new Error(`the response ended before its body matched ${re}; body: ${JSON.stringify(text)}`)));
      };
      const timer = setTimeout(() => end(() => reject(new Error(`waited ${timeoutMs} ms for the body to match ${re}; body: ${JSON.stringify(text)}`))), timeoutMs);
      const end = (then: () => void): void => {
        clearTimeout(timer);
        watchers.delete(check);
        then();
      };
      watchers.add(check);
      check();
    });
  return { response, firstChunk, done, text: () => text, waitForText, destroy: () => req.destroy() };
}

/** The code of a transport error (`ECONNREFUSED`, `ECONNRESET`, ...), or undefined for a non-network error. */
export function errorCode(e: unknown): string | undefined {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}
