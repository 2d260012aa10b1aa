import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The CLI's way to a running gateway: GATEHOUSE_URL and GATEHOUSE_ADMIN_KEY, with local defaults. */
export interface AdminTarget {
  url: string;
  key: string;
}

/** GATEHOUSE_URL without a trailing slash (the default: a gateway on this machine). */
export function gatewayUrl(): string {
  return (process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
}

export function adminTarget(dataDir?: string): AdminTarget {
  const url = gatewayUrl();
  let key = process.env.GATEHOUSE_ADMIN_KEY?.trim();
  if (!key) {
    const file = join(resolve(dataDir ?? process.env.GATEHOUSE_DATA ?? '.gatehouse'), 'admin.key');
    if (existsSync(file)) key = readFileSync(file, 'utf8').trim();
  }
  if (!key) throw new Error('no admin key: set GATEHOUSE_ADMIN_KEY (or run next to the gateway\'s data directory, or pass --data DIR).');
  return { url, key };
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface ErrorEnvelope {
  error?: { message?: string; details?: { error_code?: string } };
}

/** A non-2xx answer from the gateway; the message is `<status>: <the gateway's own message>`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly gatewayMessage: string,
    readonly code: string | undefined,
  ) {
    super(`${status}: ${gatewayMessage}`);
    this.name = 'ApiError';
  }
}

/** One exchange, whatever its status; only a transport failure throws (naming the URL). */
export interface Answer<T> {
  status: number;
  headers: Headers;
  /** The parsed JSON body; undefined when there is none or it is not JSON. */
  body: T | undefined;
  text: string;
  ms: number;
}

export interface CallOptions {
  /** Sent as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export async function call<T>(base: string, credential: string | undefined, method: Method, path: string, opts: CallOptions = {}): Promise<Answer<T>> {
  const headers: Record<string, string> = { ...(credential ? { authorization: `Bearer ${credential}` } : {}), ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const started = performance.now();
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers,
      body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
  } catch (e) {
    const err = e as { name?: string; cause?: { code?: string } };
    if (err.name === 'TimeoutError') throw new Error(`the gateway at ${base} did not answer ${method} ${path} within ${(opts.timeoutMs ?? 60_000) / 1000} s.`);
    const cause = err.cause?.code;
    throw new Error(`cannot reach the gateway at ${base}${cause ? ` (${cause})` : ''}. Is it running? Set GATEHOUSE_URL if it is elsewhere.`);
  }
  const text = await res.text();
  let body: T | undefined;
  try {
    body = text ? (JSON.parse(text) as T) : undefined;
  } catch {
    body = undefined;
  }
  return { status: res.status, headers: res.headers, body, text, ms: performance.now() - started };
}

/** The gateway's error message and code of a failed answer (Anthropic's envelope), or its text. */
export function failure(a: Answer<unknown>): ApiError {
  const env = a.body as ErrorEnvelope | undefined;
  return new ApiError(a.status, env?.error?.message ?? (a.text.trim() || `HTTP ${a.status}`), env?.error?.details?.error_code);
}

/** An admin API call: the parsed body on 2xx (undefined for 204), an ApiError otherwise. */
export async function adminCall<T>(t: AdminTarget, method: Method, path: string, body?: unknown): Promise<T> {
  const a = await call<T>(t.url, t.key, method, path, { body });
  if (a.status < 200 || a.status > 299) throw failure(a);
  return a.body as T;
}

/** A call with a developer's key (`/api/me`, `/v1/messages`): the whole answer, any status. */
export function keyCall<T>(url: string, key: string, method: Method, path: string, opts: CallOptions = {}): Promise<Answer<T>> {
  return call<T>(url, key, method, path, opts);
}

/** `{a: 'x', b: undefined}` → `?a=x`; repeated names are fine (`metadata.team`). */
export function queryString(params: Array<[string, string | number | undefined]>): string {
  const q = new URLSearchParams();
  for (const [k, v] of params) if (v !== undefined) q.append(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
