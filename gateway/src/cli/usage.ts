import type { AnalyticsRow } from '../store/types.js';
import { adminCall, adminTarget, queryString } from './admin-client.js';
import { metaFlags, metaParams, parseFlags, timeFlag } from './flags.js';
import { int, ms, table, time, usd, type Column } from './table.js';

/** `gatehouse usage`: `/api/admin/analytics` as a table, one line per bucket and group, with a total. */

interface Analytics {
  data: AnalyticsRow[];
  since: string;
  until: string;
  bucket: 'hour' | 'day' | 'none';
  group_by: string[];
}

const BUCKETS = ['hour', 'day', 'none'] as const;

const FLAGS = {
  'group-by': { type: 'string' },
  bucket: { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  meta: { type: 'string', multiple: true },
  key: { type: 'string' },
  workspace: { type: 'string' },
  model: { type: 'string' },
  provider: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

/** The header of a group column: `metadata.team` → TEAM, `model` → MODEL. */
const groupHeader = (d: string): string => d.replace(/^metadata\./, '').toUpperCase();

function cost(r: Pick<AnalyticsRow, 'cost_usd' | 'unpriced_requests'>): string {
  return r.unpriced_requests > 0 ? `${usd(r.cost_usd)} +${r.unpriced_requests} unpriced` : usd(r.cost_usd);
}

const SUMMED = ['requests', 'errors', 'cost_usd', 'unpriced_requests', 'input_tokens', 'output_tokens', 'cache_read_input_tokens', 'cache_creation_input_tokens'] as const;

/** Sums over every line; percentiles do not add up, so the total has none. */
function totalOf(rows: readonly AnalyticsRow[]): AnalyticsRow {
  const none = { p50: null, p95: null, p99: null };
  const t: AnalyticsRow = { bucket: null, group: {}, requests: 0, errors: 0, cost_usd: 0, unpriced_requests: 0, input_tokens: 0, output_tokens: 0, cache_read_input_tokens: 0, cache_creation_input_tokens: 0, latency_ms: none, ttft_ms: none };
  for (const r of rows) for (const k of SUMMED) t[k] += r[k];
  return t;
}

export function usageTable(a: Analytics): string {
  // With more than one line there is always a bucket or group column first, to label the total.
  const total = a.data.length > 1 ? totalOf(a.data) : undefined;
  const label = (r: AnalyticsRow, text: () => string): string => (r === total ? '' : text());
  const labels: Array<Column<AnalyticsRow>> = [
    ...(a.bucket === 'none' ? [] : [{ header: a.bucket.toUpperCase(), cell: (r: AnalyticsRow) => label(r, () => time(r.bucket)) }]),
    ...a.group_by.map((d) => ({ header: groupHeader(d), cell: (r: AnalyticsRow) => label(r, () => (r.group[d] === null || r.group[d] === undefined ? '(none)' : String(r.group[d]))) })),
  ];
  const first = labels[0];
  if (first && total) labels[0] = { ...first, cell: (r) => (r === total ? 'TOTAL' : first.cell(r)) };
  const cols: Array<Column<AnalyticsRow>> = [
    ...labels,
    { header: 'REQUESTS', cell: (r) => int(r.requests), right: true },
    { header: 'ERRORS', cell: (r) => int(r.errors), right: true },
    { header: 'COST', cell: cost, right: true },
    { header: 'INPUT', cell: (r) => int(r.input_tokens), right: true },
    { header: 'OUTPUT', cell: (r) => int(r.output_tokens), right: true },
    { header: 'CACHE READ', cell: (r) => int(r.cache_read_input_tokens), right: true },
    { header: 'CACHE WRITE', cell: (r) => int(r.cache_creation_input_tokens), right: true },
    { header: 'P50', cell: (r) => (r === total ? '' : ms(r.latency_ms.p50)), right: true },
    { header: 'P95', cell: (r) => (r === total ? '' : ms(r.latency_ms.p95)), right: true },
  ];
  return table(cols, total ? [...a.data, total] : a.data);
}

export async function runUsage(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('usage', argv, FLAGS);
  if (positionals.length) throw new Error(`usage takes flags only; got "${positionals[0]}" (gatehouse --help).`);
  const bucket = values.bucket;
  if (bucket !== undefined && !(BUCKETS as readonly string[]).includes(bucket)) throw new Error(`--bucket must be one of ${BUCKETS.join(', ')}; got "${bucket}".`);
  const q = queryString([
    ['group_by', values['group-by']],
    ['bucket', bucket],
    ['since', timeFlag('--since', values.since)],
    ['until', timeFlag('--until', values.until)],
    ['key_id', values.key],
    ['workspace', values.workspace],
    ['model', values.model],
    ['provider', values.provider?.replace(/^@/, '')],
    ...metaParams(metaFlags('--meta', values.meta)),
  ]);
  const a = await adminCall<Analytics>(adminTarget(values.data), 'GET', `/api/admin/analytics${q}`);
  if (values.json) {
    console.log(JSON.stringify(a));
    return 0;
  }
  console.log(`Usage from ${time(a.since)} to ${time(a.until)}${a.group_by.length ? ` by ${a.group_by.join(', ')}` : ''}:\n`);
  console.log(a.data.length ? usageTable(a) : 'No requests in this range.');
  return 0;
}
