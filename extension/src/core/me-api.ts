import type { BudgetView, LogEntry } from '../../../webview/src/protocol.js';
import type { FetchLike } from './io.js';
import { call, fetchMe, httpProblem, type Problem } from './profile.js';

/**
 * The developer-key REST reads behind the status bar and the log view: budgets from `/api/me`,
 * today's rows from `/api/me/logs` (paged with `next_cursor`), one row's bodies. Failures are
 * the same `Problem`s the connect flow shows, so "offline" says why in the same words.
 */

export type Got<T> = { ok: true; value: T } | { ok: false; problem: Problem };

/** The gateway's largest page (gateway/src/api/logs.ts MAX_LIMIT). */
const PAGE = 500;

/** Local midnight as an ISO instant: "today" is the developer's day, not UTC's. */
export function startOfLocalDay(now: Date): string {
  return new Date(now.getFullYear(), now.getMonth(), now.getDate()).toISOString();
}

export async function fetchBudgets(fetch: FetchLike, base: string, key: string): Promise<Got<BudgetView[]>> {
  const got = await fetchMe(fetch, base, key);
  return got.ok ? { ok: true, value: got.me.budgets } : got;
}

async function json<T>(fetch: FetchLike, base: string, path: string, key: string): Promise<Got<T>> {
  const a = await call(fetch, base, path, key);
  if (!a.ok) return a;
  const body = await a.res.text();
  if (a.res.status !== 200) return { ok: false, problem: httpProblem(base, path.replace(/\?.*/, ''), a.res.status, body) };
  try {
    return { ok: true, value: JSON.parse(body) as T };
  } catch {
    return { ok: false, problem: { kind: 'unexpected', status: 200, message: `${base}${path} did not answer JSON.`, fix: 'Check the gateway URL with your platform admin.' } };
  }
}

/** Every row of this key since `since`, newest first, at most `max` (the oldest are dropped). */
export async function fetchRowsSince(fetch: FetchLike, base: string, key: string, since: string, max = 5_000): Promise<Got<LogEntry[]>> {
  const rows: LogEntry[] = [];
  let cursor: string | null = null;
  do {
    const q: URLSearchParams = new URLSearchParams({ since, limit: String(PAGE), ...(cursor ? { cursor } : {}) });
    const page: Got<{ data: LogEntry[]; next_cursor: string | null }> = await json(fetch, base, `/api/me/logs?${q}`, key);
    if (!page.ok) return page;
    rows.push(...page.value.data);
    cursor = page.value.next_cursor;
  } while (cursor && rows.length < max);
  return { ok: true, value: rows.slice(0, max) };
}

export interface Bodies {
  request?: unknown;
  response?: unknown;
}

/** `GET /api/me/logs/:id/bodies`; `null` when none are kept for that row (a 404). */
export async function fetchBodies(fetch: FetchLike, base: string, key: string, id: string): Promise<Got<Bodies | null>> {
  const got = await json<Bodies>(fetch, base, `/api/me/logs/${encodeURIComponent(id)}/bodies`, key);
  if (!got.ok && got.problem.status === 404) return { ok: true, value: null };
  return got;
}
