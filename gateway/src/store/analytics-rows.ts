import type { AnalyticsQuery, AnalyticsRow, LogFilter, Percentiles, UsageSums } from './types.js';

/**
 * What the SQLite and PostgreSQL stores share of log queries and analytics: the filter columns
 * compared for equality, and the shape their aggregate rows are turned into. Only the SQL
 * differs between the two (placeholders, JSON access, NULL ordering).
 */

/** Filters that are one `column = value` test, in the order they are applied. */
export const EQUALITY_FILTERS = ['key_id', 'workspace', 'model', 'provider', 'status', 'trace_id', 'session_id'] as const satisfies ReadonlyArray<keyof LogFilter>;

/** The sums of an aggregate row (the driver may return more columns). */
export const usageSums = (r: UsageSums): UsageSums => ({
  requests: r.requests,
  errors: r.errors,
  cost_usd: r.cost_usd,
  unpriced_requests: r.unpriced_requests,
  input_tokens: r.input_tokens,
  output_tokens: r.output_tokens,
  cache_read_input_tokens: r.cache_read_input_tokens,
  cache_creation_input_tokens: r.cache_creation_input_tokens,
});

type AggregateRow = UsageSums & Record<string, unknown>;

const percentiles = (r: AggregateRow, col: string): Percentiles => ({
  p50: r[`${col}_p50`] as number | null,
  p95: r[`${col}_p95`] as number | null,
  p99: r[`${col}_p99`] as number | null,
});

/** An aggregate row (bucket `b`, dimensions `g0…`, sums, `lat_*` and `ttft_*` percentiles) as the API gives it. */
export function analyticsRow(r: AggregateRow, groupBy: AnalyticsQuery['group_by']): AnalyticsRow {
  return {
    bucket: r.b as string | null,
    group: Object.fromEntries(groupBy.map((d, i) => [d, (r[`g${i}`] as string | number | null | undefined) ?? null])),
    ...usageSums(r),
    latency_ms: percentiles(r, 'lat'),
    ttft_ms: percentiles(r, 'ttft'),
  };
}
