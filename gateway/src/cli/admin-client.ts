import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The CLI's way to a running gateway: GATEHOUSE_URL and GATEHOUSE_ADMIN_KEY, with local defaults. */
export interface AdminTarget {
  url: string;
  key: string;
}

export function adminTarget(dataDir?: string): AdminTarget {
  const url = (process.env.GATEHOUSE_URL ?? 'http://127.0.0.1:8787').replace(/\/+$/, '');
  let key = process.env.GATEHOUSE_ADMIN_KEY?.trim();
  if (!key) {
    const file = join(resolve(dataDir ?? process.env.GATEHOUSE_DATA ?? '.gatehouse'), 'admin.key');
    if (existsSync(file)) key = readFileSync(file, 'utf8').trim();
  }
  if (!key) throw new Error('no admin key: set GATEHOUSE_ADMIN_KEY (or run next to the gateway\'s data directory, or pass --data DIR).');
  return { url, key };
}

interface ErrorEnvelope {
  error?: { message?: string };
}

export async function adminCall<T>(t: AdminTarget, method: 'GET' | 'POST' | 'PATCH', path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(t.url + path, {
      method,
      headers: { authorization: `Bearer ${t.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new Error(`cannot reach the gateway at ${t.url}${cause ? ` (${cause})` : ''}. Is it running? Set GATEHOUSE_URL if it is elsewhere.`);
  }
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!res.ok) {
    const msg = (parsed as ErrorEnvelope | undefined)?.error?.message ?? text;
    throw new Error(`${res.status}: ${msg}`);
  }
  return parsed as T;
}
