import type Database from 'better-sqlite3';
import { logWhere } from './sqlite-logs.js';
import type { AnalyticsDimension, AnalyticsQuery, AnalyticsRow, LogFilter, ModelUsage, UsageSums } from './types.js';
import { analyticsRow, usageSums } from './analytics-rows.js';

/**
 * Aggregates over the `logs` table. Tokens, latency and time to first byte live only in the
 * row's JSON, so they are read with `json_extract`; the filters use the indexed columns.
 *
 * Percentiles are nearest-rank (the value at rank ceil(p/100 × n) of the group, sorted), in SQL:
 * window functions number each group's rows by latency, and the percentile is the smallest value
 * whose rank reaches p% of the group. Exact, with no interpolation, so it is always a value that
 * was measured.
 */

const COLUMN_DIMENSIONS: Readonly<Record<string, string>> = { model: 'model', provider: 'provider', key_id: 'key_id', workspace: 'workspace', status: 'status' };
const BUCKETS: Readonly<Record<AnalyticsQuery['bucket'], string>> = {
  // `created_at` is always `toISOString()` (UTC, fixed width), so a prefix is the bucket.
  hour: `substr(created_at, 1, 13) || ':00:00.000Z'`,
  day: `substr(created_at, 1, 10) || 'T00:00:00.000Z'`,
  none: 'NULL',
};
const PERCENTILES = [50, 95, 99] as const;

/** The per-row values every aggregate reads, under short names. */
const BASE_COLUMNS = `status, cost_usd, created_at,
  json_extract(row, '$.input_tokens') AS it, json_extract(row, '$.output_tokens') AS ot,
  json_extract(row, '$.cache_read_input_tokens') AS cr, json_extract(row, '$.cache_creation_input_tokens') AS cc,
  json_extract(row, '$.latency_ms') AS lat, json_extract(row, '$.ttft_ms') AS ttft`;

// TOTAL() is 0.0 over only NULLs, where SUM() would be NULL.
const SUMS = `COUNT(*) AS requests, SUM(status >= 400) AS errors, TOTAL(cost_usd) AS cost_usd, SUM(cost_usd IS NULL) AS unpriced_requests,
  TOTAL(it) AS input_tokens, TOTAL(ot) AS output_tokens, TOTAL(cr) AS cache_read_input_tokens, TOTAL(cc) AS cache_creation_input_tokens`;


/** A metadata field's JSON path; the field name is quoted and escaped, and bound as a parameter. */
export const metadataPath = (field: string): string => `$.metadata.${JSON.stringify(field)}`;

/** The SQL expression of a dimension and the parameter it binds, if any. */
function dimension(d: AnalyticsDimension): { sql: string; args: unknown[] } {
  const col = COLUMN_DIMENSIONS[d];
  if (col) return { sql: col, args: [] };
  if (d.startsWith('metadata.')) return { sql: 'json_extract(row, ?)', args: [metadataPath(d.slice('metadata.'.length))] };
  throw new Error(`unknown analytics dimension ${d}`);
}

function where(f: LogFilter): { sql: string; args: unknown[] } {
  const w = logWhere(f);
  return { sql: w.where.length ? `WHERE ${w.where.join(' AND ')}` : '', args: w.args };
}

export class SqliteAnalytics {
  constructor(private readonly db: Database.Database) {}

  analyze(q: AnalyticsQuery): AnalyticsRow[] {
    const dims = q.group_by.map(dimension);
    const g = dims.map((_, i) => `g${i}`);
    const partition = `PARTITION BY ${['b', ...g].join(', ')}`;
    const w = where(q.filter);
    const pct = (col: string, rank: string, n: string) =>
      PERCENTILES.map((p) => `MIN(CASE WHEN ${col} IS NOT NULL AND ${rank} * 100 >= ${p} * ${n} THEN ${col} END) AS ${col}_p${p}`).join(', ');
    // Only the dimension expressions and the filter bind parameters, in that order.
    const sql = `
      WITH base AS (
        SELECT ${BUCKETS[q.bucket]} AS b${dims.map((d, i) => `, ${d.sql} AS g${i}`).join('')}, ${BASE_COLUMNS}
        FROM logs ${w.sql}
      ), ranked AS (
        SELECT *,
          ROW_NUMBER() OVER (${partition} ORDER BY lat IS NULL, lat) AS lat_rank, COUNT(lat) OVER (${partition}) AS lat_n,
          ROW_NUMBER() OVER (${partition} ORDER BY ttft IS NULL, ttft) AS ttft_rank, COUNT(ttft) OVER (${partition}) AS ttft_n
        FROM base
      )
      SELECT b${g.map((c) => `, ${c}`).join('')}, ${SUMS}, ${pct('lat', 'lat_rank', 'lat_n')}, ${pct('ttft', 'ttft_rank', 'ttft_n')}
      FROM ranked GROUP BY ${['b', ...g].join(', ')}
      ORDER BY b, requests DESC${g.map((c) => `, ${c}`).join('')}`;
    const rows = this.db.prepare(sql).all(...dims.flatMap((d) => d.args), ...w.args) as Array<UsageSums & Record<string, string | number | null>>;
    return rows.map((r) => analyticsRow(r, q.group_by));
  }

  byModel(f: LogFilter): ModelUsage[] {
    const w = where(f);
    const sql = `
      WITH base AS (SELECT model, ${BASE_COLUMNS} FROM logs ${w.sql})
      SELECT model, ${SUMS}, MIN(created_at) AS first_at, MAX(created_at) AS last_at
      FROM base GROUP BY model ORDER BY first_at, model`;
    const rows = this.db.prepare(sql).all(...w.args) as Array<UsageSums & { model: string | null; first_at: string; last_at: string }>;
    return rows.map((r) => ({ model: r.model, ...usageSums(r), first_at: r.first_at, last_at: r.last_at }));
  }
}
