import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { METADATA_LIMITS } from '../routing/metadata.js';
import type { Runtime } from '../server/runtime.js';
import type { AnalyticsDimension, AnalyticsQuery, LogFilter, ModelUsage, UsageSums } from '../store/types.js';
import { errors } from '../wire/errors.js';

/**
 * Usage over the request logs: sums and latency percentiles grouped by any dimensions and UTC
 * hour or day (`/api/admin/analytics`), a trace's or a session's rows with their totals, and a
 * developer's own usage (`/api/me/usage`).
 */

type Query = Record<string, string | string[] | undefined>;

const Bucket = z.enum(['hour', 'day', 'none']);
const ColumnDimension = z.enum(['model', 'provider', 'key_id', 'workspace', 'status']);
const FILTERS = ['key_id', 'workspace', 'model', 'provider', 'trace_id', 'session_id'] as const;
const MAX_DIMENSIONS = 4;
const DAY_MS = 86_400_000;
/** A trace or session answers with at most this many rows (the newest); its totals count them all. */
const MAX_ROWS = 1000;

/** Sums over every matching row, with when they started and ended and the models they asked for. */
export interface UsageTotals extends UsageSums {
  first_at: string | null;
  last_at: string | null;
  models: string[];
}

const last = (v: string | string[] | undefined) => (Array.isArray(v) ? v.at(-1) : v);

function iso(name: string, v: string): string {
  const t = Date.parse(v);
  if (Number.isNaN(t)) throw errors.invalidParam(`${name}: "${v}" is not a time; use ISO 8601, e.g. 2026-11-22T00:00:00Z.`);
  return new Date(t).toISOString();
}

/** `since`/`until` from the query, or the defaults; since must come before until. */
function range(q: Query, fallback: { since: string; until: string }): { since: string; until: string } {
  const s = last(q.since);
  const u = last(q.until);
  const until = u === undefined ? fallback.until : iso('until', u);
  const since = s === undefined ? (u === undefined ? fallback.since : new Date(Date.parse(until) - DAY_MS).toISOString()) : iso('since', s);
  if (since >= until) throw errors.invalidParam(`since (${since}) must be before until (${until}).`);
  return { since, until };
}

/** The filters `/api/admin/logs` takes (without paging); any other name is refused, so a typo does not widen a query. */
function parseFilter(q: Query, own: readonly string[]): Omit<LogFilter, 'since' | 'until'> {
  const out: LogFilter = { metadata: {} };
  for (const [name, raw] of Object.entries(q)) {
    const v = last(raw);
    if (v === undefined || own.includes(name) || name === 'since' || name === 'until') continue;
    if (name.startsWith('metadata.') && name.length > 'metadata.'.length) out.metadata[name.slice('metadata.'.length)] = v;
    else if (name === 'status') {
      const n = Number(v);
      if (!Number.isInteger(n)) throw errors.invalidParam(`status: an HTTP status such as 429; got "${v}".`);
      out.status = n;
    } else if ((FILTERS as readonly string[]).includes(name)) out[name as (typeof FILTERS)[number]] = v;
    else throw errors.invalidParam(`Unknown parameter "${name}". Use ${own.join(', ')}, since, until, metadata.<field>, ${FILTERS.join(', ')} or status.`);
  }
  return out;
}

/** `group_by=model,metadata.team`: the indexed columns, or any metadata field by name. */
export function parseGroupBy(raw: string | undefined): AnalyticsDimension[] {
  if (raw === undefined || raw.trim() === '') return [];
  const dims = raw.split(',').map((d) => d.trim());
  const hint = `Group by ${ColumnDimension.options.join(', ')} or metadata.<field>, up to ${MAX_DIMENSIONS} separated by commas.`;
  if (dims.length > MAX_DIMENSIONS) throw errors.invalidParam(`group_by: at most ${MAX_DIMENSIONS} dimensions; got ${dims.length}.`);
  const seen = new Set<string>();
  return dims.map((d): AnalyticsDimension => {
    if (seen.has(d)) throw errors.invalidParam(`group_by: "${d}" is named twice.`);
    seen.add(d);
    if (d.startsWith('metadata.')) {
      const field = d.slice('metadata.'.length);
      if (field.length < 1 || field.length > METADATA_LIMITS.keyLength) throw errors.invalidParam(`group_by: "${d}" needs a metadata field name of 1 to ${METADATA_LIMITS.keyLength} characters.`);
      return `metadata.${field}`;
    }
    const col = ColumnDimension.safeParse(d);
    if (!col.success) throw errors.invalidParam(`group_by: unknown dimension "${d}". ${hint}`);
    return col.data;
  });
}

export function parseAnalyticsQuery(q: Query, now = Date.now()): AnalyticsQuery {
  const b = last(q.bucket) ?? 'none';
  const bucket = Bucket.safeParse(b);
  if (!bucket.success) throw errors.invalidParam(`bucket: "${b}" is not one of ${Bucket.options.join(', ')}.`);
  const group_by = parseGroupBy(last(q.group_by));
  const filter = parseFilter(q, ['group_by', 'bucket']);
  const r = range(q, { since: new Date(now - DAY_MS).toISOString(), until: new Date(now).toISOString() });
  return { filter: { ...filter, ...r }, group_by, bucket: bucket.data };
}

/** Totals over per-model sums: the models in order of first use. */
export function totalsOf(byModel: readonly ModelUsage[]): UsageTotals {
  const t: UsageTotals = {
    requests: 0,
    errors: 0,
    cost_usd: 0,
    unpriced_requests: 0,
    input_tokens: 0,
    output_tokens: 0,
    cache_read_input_tokens: 0,
    cache_creation_input_tokens: 0,
    first_at: null,
    last_at: null,
    models: [],
  };
  for (const m of byModel) {
    t.requests += m.requests;
    t.errors += m.errors;
    t.cost_usd += m.cost_usd;
    t.unpriced_requests += m.unpriced_requests;
    t.input_tokens += m.input_tokens;
    t.output_tokens += m.output_tokens;
    t.cache_read_input_tokens += m.cache_read_input_tokens;
    t.cache_creation_input_tokens += m.cache_creation_input_tokens;
    if (t.first_at === null || m.first_at < t.first_at) t.first_at = m.first_at;
    if (t.last_at === null || m.last_at > t.last_at) t.last_at = m.last_at;
    if (m.model !== null) t.models.push(m.model);
  }
  return t;
}

export function adminAnalyticsRoutes(rt: Runtime) {
  /** The rows of one trace or session, oldest first, with totals over all of them. */
  const group = async (field: 'trace_id' | 'session_id', id: string, label: string) => {
    const totals = totalsOf(await rt.store.usageByModel({ metadata: {}, [field]: id }));
    if (totals.requests === 0) throw errors.adminNotFound(`${label} ${id}`);
    const { rows, next_cursor } = await rt.store.queryLogs({ metadata: {}, [field]: id, limit: MAX_ROWS });
    return { id, totals, data: rows.reverse(), truncated: next_cursor !== null };
  };

  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: Query }>('/analytics', async (req) => {
      const q = parseAnalyticsQuery(req.query);
      const data = await rt.store.analyzeLogs(q);
      return { data, since: q.filter.since, until: q.filter.until, bucket: q.bucket, group_by: q.group_by };
    });
    app.get<{ Params: { trace_id: string } }>('/traces/:trace_id', async (req) => group('trace_id', req.params.trace_id, 'Trace'));
    app.get<{ Params: { session_id: string } }>('/sessions/:session_id', async (req) => group('session_id', req.params.session_id, 'Session'));
  };
}

/** A developer's own usage: the range (default: the current UTC day) and, if asked, one session of theirs. */
export function meUsageRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: Query }>('/me/usage', async (req) => {
      const key = req.gatehouseKey;
      if (!key) throw errors.missingKey();
      for (const name of Object.keys(req.query)) {
        if (!['since', 'until', 'session_id'].includes(name)) throw errors.invalidParam(`Unknown parameter "${name}". Use since, until or session_id.`);
      }
      const day = Math.floor(Date.now() / DAY_MS) * DAY_MS;
      const r = range(req.query, { since: new Date(day).toISOString(), until: new Date(day + DAY_MS).toISOString() });
      const byModel = await rt.store.usageByModel({ metadata: {}, key_id: key.id, ...r });
      const sessionId = last(req.query.session_id);
      // A session is counted whole, whatever the range: it may have begun before today.
      const sessionByModel = sessionId ? await rt.store.usageByModel({ metadata: {}, key_id: key.id, session_id: sessionId }) : undefined;
      return {
        key_id: key.id,
        since: r.since,
        until: r.until,
        totals: totalsOf(byModel),
        by_model: byModel,
        session: sessionId && sessionByModel ? { id: sessionId, totals: totalsOf(sessionByModel), by_model: sessionByModel } : null,
      };
    });
  };
}
