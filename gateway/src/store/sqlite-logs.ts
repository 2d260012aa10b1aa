import type Database from 'better-sqlite3';
import type { LogRow } from '../observe/log-row.js';
import type { LogQuery } from './log-query.js';
import type { LogFilter } from './types.js';
import { EQUALITY_FILTERS } from './analytics-rows.js';

/**
 * Request logs in SQLite: the row as JSON, with the fields people filter on as indexed columns,
 * and metadata fields in a side table so any combination of them can be matched by index.
 */
export const LOG_MIGRATION = `
  CREATE TABLE logs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    trace_id TEXT, session_id TEXT, workspace TEXT, key_id TEXT, model TEXT, provider TEXT,
    status INTEGER NOT NULL,
    cost_usd REAL,
    row TEXT NOT NULL
  );
  CREATE INDEX logs_created ON logs(created_at);
  CREATE INDEX logs_key ON logs(key_id, seq);
  CREATE INDEX logs_workspace ON logs(workspace, seq);
  CREATE INDEX logs_trace ON logs(trace_id);
  CREATE INDEX logs_session ON logs(session_id);
  CREATE TABLE log_metadata (seq INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL);
  CREATE INDEX log_metadata_kv ON log_metadata(key, value, seq);`;

export class SqliteLogs {
  readonly #insert;
  readonly #insertMeta;
  readonly #byId;

  constructor(private readonly db: Database.Database) {
    this.#insert = db.prepare(
      `INSERT OR IGNORE INTO logs (id, created_at, trace_id, session_id, workspace, key_id, model, provider, status, cost_usd, row)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.#insertMeta = db.prepare(`INSERT INTO log_metadata (seq, key, value) VALUES (?, ?, ?)`);
    this.#byId = db.prepare(`SELECT row FROM logs WHERE id = ?`);
  }

  insert(rows: readonly LogRow[]): void {
    this.db.transaction(() => {
      for (const r of rows) {
        // Positional: binding by name would walk every field of the row.
        const res = this.#insert.run(r.id, r.created_at, r.trace_id, r.session_id, r.workspace, r.key_id, r.model, r.provider, r.status, r.cost_usd, JSON.stringify(r));
        if (res.changes === 0) continue;
        for (const [k, v] of Object.entries(r.metadata)) this.#insertMeta.run(res.lastInsertRowid, k, v);
      }
    })();
  }

  get(id: string): LogRow | undefined {
    const r = this.#byId.get(id) as { row: string } | undefined;
    return r && (JSON.parse(r.row) as LogRow);
  }

  /** Newest first; the cursor is the position after the last row of the page. */
  query(q: LogQuery): { rows: LogRow[]; next_cursor: string | null } {
    const { where, args } = logWhere(q);
    if (q.cursor) {
      where.push('seq < ?');
      args.push(Number(q.cursor));
    }
    const sql = `SELECT seq, row FROM logs ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY seq DESC LIMIT ?`;
    const found = this.db.prepare(sql).all(...args, q.limit + 1) as Array<{ seq: number; row: string }>;
    const page = found.slice(0, q.limit);
    return { rows: page.map((r) => JSON.parse(r.row) as LogRow), next_cursor: found.length > q.limit ? String(page.at(-1)!.seq) : null };
  }
}

/**
 * The WHERE terms of a log filter over `logs` (unaliased), shared by listing and analytics.
 * Column names are fixed here; only values come from the request, as bound parameters.
 */
export function logWhere(f: LogFilter): { where: string[]; args: unknown[] } {
  const where: string[] = [];
  const args: unknown[] = [];
  const eq = (col: string, v: unknown) => {
    if (v === undefined) return;
    where.push(`${col} = ?`);
    args.push(v);
  };
  for (const col of EQUALITY_FILTERS) eq(col, f[col]);
  if (f.since) {
    where.push('created_at >= ?');
    args.push(f.since);
  }
  if (f.until) {
    where.push('created_at < ?');
    args.push(f.until);
  }
  for (const [k, v] of Object.entries(f.metadata)) {
    where.push('seq IN (SELECT seq FROM log_metadata WHERE key = ? AND value = ?)');
    args.push(k, v);
  }
  return { where, args };
}
