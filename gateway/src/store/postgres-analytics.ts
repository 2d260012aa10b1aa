import type { Queryable } from './postgres-pool.js';
import { logWhere, Params } from './postgres-logs.js';
import type { AnalyticsDimension, AnalyticsQuery, AnalyticsRow, LogFilter, ModelUsage, UsageSums } from './types.js';
import { analyticsRow, usageSums } from './analytics-rows.js';

/**
 * Aggregates over `logs`, the same queries as sqlite-analytics.ts, written so PostgreSQL returns
 * the same rows in the same order:
 * - Nearest-rank percentiles by window functions (the smallest value whose rank reaches p% of
 *   the group's count): exact, always a measured value.
 * - NULL sorts first in ascending order in SQLite and last in PostgreSQL, so each ORDER BY says
 *   NULLS FIRST; text compares in byte order (`COLLATE "C"`), as SQLite's BINARY does.
 * - Sums are cast to double precision (SUM(bigint) would be numeric, which pg hands over as text);
 *   COALESCE gives 0 over only NULLs, as SQLite's TOTAL() does.
 */

const COLUMN_DIMENSIONS: Readonly<Record<string, string>> = { model: 'model', provider: 'provider', key_id: 'key_id', workspace: 'workspace', status: 'status' };
const BUCKETS: Readonly<Record<AnalyticsQuery['bucket'], string>> = {
  // `created_at` is always `toISOString()` (UTC, fixed width), so a prefix is the bucket.
  hour: `substr(created_at, 1, 13) || ':00:00.000Z'`,
  day: `substr(created_at, 1, 10) || 'T00:00:00.000Z'`,
  none: 'NULL::text',
};
const PERCENTILES = [50, 95, 99] as const;

const BASE_COLUMNS = `status, cost_usd, created_at, input_tokens AS it, output_tokens AS ot, cache_read_input_tokens AS cr, cache_creation_input_tokens AS cc, latency_ms AS lat, ttft_ms AS ttft`;

const SUMS = `COUNT(*)::integer AS requests, COUNT(*) FILTER (WHERE status >= 400)::integer AS errors,
  COALESCE(SUM(cost_usd), 0)::float8 AS cost_usd, COUNT(*) FILTER (WHERE cost_usd IS NULL)::integer AS unpriced_requests,
  COALESCE(SUM(it), 0)::float8 AS input_tokens, COALESCE(SUM(ot), 0)::float8 AS output_tokens,
  COALESCE(SUM(cr), 0)::float8 AS cache_read_input_tokens, COALESCE(SUM(cc), 0)::float8 AS cache_creation_input_tokens`;


/** The SQL expression of a dimension; a metadata field's name is bound, never spliced. */
function dimension(d: AnalyticsDimension, p: Params): string {
  const col = COLUMN_DIMENSIONS[d];
  if (col) return col;
  if (d.startsWith('metadata.')) return `(metadata ->> ${p.add(d.slice('metadata.'.length))}::text) COLLATE "C"`;
  throw new Error(`unknown analytics dimension ${d}`);
}

type Row = UsageSums & Record<string, string | number | null>;

export class PostgresAnalytics {
  constructor(private readonly pool: Queryable) {}

  async analyze(q: AnalyticsQuery): Promise<AnalyticsRow[]> {
    const p = new Params();
    // Parameters are numbered in the order they are added: dimensions first, then the filter.
    const dims = q.group_by.map((d) => dimension(d, p));
    const where = logWhere(q.filter, p);
    const g = dims.map((_, i) => `g${i}`);
    const keys = ['b', ...g];
    const partition = `PARTITION BY ${keys.join(', ')}`;
    const pct = (col: string, rank: string, n: string) =>
      PERCENTILES.map((pc) => `MIN(CASE WHEN ${col} IS NOT NULL AND ${rank} * 100 >= ${pc} * ${n} THEN ${col} END) AS ${col}_p${pc}`).join(', ');
    const sql = `
      WITH base AS (
        SELECT ${BUCKETS[q.bucket]} AS b${dims.map((d, i) => `, ${d} AS g${i}`).join('')}, ${BASE_COLUMNS}
        FROM logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ), ranked AS (
        SELECT *,
          ROW_NUMBER() OVER (${partition} ORDER BY lat ASC NULLS LAST) AS lat_rank, COUNT(lat) OVER (${partition}) AS lat_n,
          ROW_NUMBER() OVER (${partition} ORDER BY ttft ASC NULLS LAST) AS ttft_rank, COUNT(ttft) OVER (${partition}) AS ttft_n
        FROM base
      )
      SELECT ${keys.join(', ')}, ${SUMS}, ${pct('lat', 'lat_rank', 'lat_n')}, ${pct('ttft', 'ttft_rank', 'ttft_n')}
      FROM ranked GROUP BY ${keys.join(', ')}
      ORDER BY b NULLS FIRST, requests DESC${g.map((c) => `, ${c} NULLS FIRST`).join('')}`;
    const { rows } = await this.pool.query<Row>(sql, p.values);
    return rows.map((r) => analyticsRow(r, q.group_by));
  }

  async byModel(f: LogFilter): Promise<ModelUsage[]> {
    const p = new Params();
    const where = logWhere(f, p);
    const sql = `
      WITH base AS (SELECT model, ${BASE_COLUMNS} FROM logs ${where.length ? `WHERE ${where.join(' AND ')}` : ''})
      SELECT model, ${SUMS}, MIN(created_at) AS first_at, MAX(created_at) AS last_at
      FROM base GROUP BY model ORDER BY first_at, model NULLS FIRST`;
    const { rows } = await this.pool.query<UsageSums & { model: string | null; first_at: string; last_at: string }>(sql, p.values);
    return rows.map((r) => ({ model: r.model, ...usageSums(r), first_at: r.first_at, last_at: r.last_at }));
  }
}
