import type { Queryable } from './postgres-pool.js';
import type { LogRow } from '../observe/log-row.js';
import type { LogQuery } from './log-query.js';
import type { LogFilter } from './types.js';
import { EQUALITY_FILTERS } from './analytics-rows.js';

/**
 * Request logs in PostgreSQL: the row's JSON text, the filtered fields as indexed columns, the
 * metadata as jsonb (GIN). A batch is one INSERT over arrays, so it is one round trip and one
 * statement: every row of an acknowledged batch is stored, or none is.
 */

/** Numbered placeholders for one statement; values are only ever bound, never spliced. */
export class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

const COLUMNS = [
  ['id', 'text'],
  ['created_at', 'text'],
  ['trace_id', 'text'],
  ['session_id', 'text'],
  ['workspace', 'text'],
  ['key_id', 'text'],
  ['model', 'text'],
  ['provider', 'text'],
  ['status', 'integer'],
  ['cost_usd', 'float8'],
  ['input_tokens', 'bigint'],
  ['output_tokens', 'bigint'],
  ['cache_read_input_tokens', 'bigint'],
  ['cache_creation_input_tokens', 'bigint'],
  ['latency_ms', 'float8'],
  ['ttft_ms', 'float8'],
  ['metadata', 'jsonb'],
  ['row', 'text'],
] as const;

const INSERT = `
  INSERT INTO logs (${COLUMNS.map(([c]) => c).join(', ')})
  SELECT ${COLUMNS.map(([c]) => c).join(', ')}
  FROM unnest(${COLUMNS.map(([, t], i) => `$${i + 1}::${t}[]`).join(', ')}) WITH ORDINALITY AS u(${COLUMNS.map(([c]) => c).join(', ')}, ord)
  ORDER BY ord
  ON CONFLICT (id) DO NOTHING`;

/** A value the SQLite store reads with json_extract: absent or non-numeric fields are NULL there too. */
const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

export class PostgresLogs {
  constructor(private readonly pool: Queryable) {}

  async insert(rows: readonly LogRow[]): Promise<void> {
    if (!rows.length) return;
    // One array per column; ORDER BY ord keeps `seq` (the paging order) in batch order.
    const cols = COLUMNS.map(() => [] as unknown[]);
    for (const r of rows) {
      const values = [r.id, r.created_at, r.trace_id, r.session_id, r.workspace, r.key_id, r.model, r.provider, r.status, num(r.cost_usd), num(r.input_tokens), num(r.output_tokens), num(r.cache_read_input_tokens), num(r.cache_creation_input_tokens), num(r.latency_ms), num(r.ttft_ms), JSON.stringify(r.metadata ?? {}), JSON.stringify(r)];
      values.forEach((v, i) => cols[i]!.push(v ?? null));
    }
    await this.pool.query(INSERT, cols);
  }

  async get(id: string): Promise<LogRow | undefined> {
    const { rows } = await this.pool.query<{ row: string }>('SELECT row FROM logs WHERE id = $1', [id]);
    return rows[0] && (JSON.parse(rows[0].row) as LogRow);
  }

  /** Newest first; the cursor is the position after the last row of the page. */
  async query(q: LogQuery): Promise<{ rows: LogRow[]; next_cursor: string | null }> {
    const p = new Params();
    const where = logWhere(q, p);
    if (q.cursor) {
      const before = Number(q.cursor);
      // SQLite compares with NaN as NULL: a cursor that is not a position matches nothing.
      if (!Number.isFinite(before)) return { rows: [], next_cursor: null };
      where.push(`seq < ${p.add(Math.ceil(Math.min(before, Number.MAX_SAFE_INTEGER)))}`);
    }
    const sql = `SELECT seq, row FROM logs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ${p.add(q.limit + 1)}`;
    const { rows: found } = await this.pool.query<{ seq: number; row: string }>(sql, p.values);
    const page = found.slice(0, q.limit);
    return { rows: page.map((r) => JSON.parse(r.row) as LogRow), next_cursor: found.length > q.limit ? String(page.at(-1)!.seq) : null };
  }
}

/**
 * The WHERE terms of a log filter over `logs`, shared by listing and analytics. Column names are
 * fixed here; only values come from the request, as bound parameters.
 */
export function logWhere(f: LogFilter, p: Params): string[] {
  const where: string[] = [];
  const eq = (col: string, v: unknown) => {
    if (v !== undefined) where.push(`${col} = ${p.add(v)}`);
  };
  for (const col of EQUALITY_FILTERS) eq(col, f[col]);
  if (f.since) where.push(`created_at >= ${p.add(f.since)}`);
  if (f.until) where.push(`created_at < ${p.add(f.until)}`);
  // Every field at once: `@>` is true when the row's metadata holds each pair (GIN-indexed).
  if (Object.keys(f.metadata).length) where.push(`metadata @> ${p.add(JSON.stringify(f.metadata))}::jsonb`);
  return where;
}
