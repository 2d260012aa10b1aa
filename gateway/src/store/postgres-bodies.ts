import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { joinRequest, splitRequest, type BodySummary } from '../observe/bodies.js';
import { LOCKS } from './postgres-migrations.js';
import type { GuardedPool, Queryable } from './postgres-pool.js';
import type { BodyEntry, StoredBodies } from './sqlite-bodies.js';

/**
 * Logged bodies in PostgreSQL, stored as sqlite-bodies.ts stores them (each distinct block once,
 * deflated; a manifest per log). Each block and manifest also lists the blocks it references, so
 * the blocks of a request and the blocks still reachable are recursive queries in the server.
 *
 * Pruning in one instance must not delete a block that another instance is about to reference
 * because it found it stored: both take the same advisory lock, shared for inserts, exclusive for
 * the sweep.
 */

// The reference form of observe/bodies.ts: an object whose only key is "$blob".
const REF = '$blob';

/** The hashes a manifest or block references directly (references are leaves: no deeper walk). */
function directRefs(json: string): string[] {
  const out = new Set<string>();
  const stack: unknown[] = [JSON.parse(json)];
  while (stack.length) {
    const v = stack.pop();
    if (Array.isArray(v)) stack.push(...(v as unknown[]));
    else if (typeof v === 'object' && v !== null) {
      const o = v as Record<string, unknown>;
      const keys = Object.keys(o);
      if (keys.length === 1 && keys[0] === REF && typeof o[REF] === 'string') out.add(o[REF]);
      else stack.push(...Object.values(o));
    }
  }
  return [...out];
}

interface BodyRow {
  log_id: string;
  created_at: string;
  manifest: Buffer | null;
  response: string | null;
  summary: string;
  refs: string[];
}

const WRITE = `
  WITH new_blobs AS (
    INSERT INTO blobs (hash, data, refs)
    SELECT h, d, ARRAY(SELECT jsonb_array_elements_text(r)) FROM unnest($1::text[], $2::bytea[], $3::jsonb[]) AS u(h, d, r)
    ON CONFLICT (hash) DO NOTHING
  )
  INSERT INTO log_bodies (log_id, created_at, manifest, response, summary, refs)
  SELECT l, c, m, rs, s, ARRAY(SELECT jsonb_array_elements_text(r))
  FROM unnest($4::text[], $5::text[], $6::bytea[], $7::text[], $8::text[], $9::jsonb[]) AS u(l, c, m, rs, s, r)
  ON CONFLICT (log_id) DO UPDATE SET created_at = excluded.created_at, manifest = excluded.manifest, response = excluded.response, summary = excluded.summary, refs = excluded.refs`;

const CLOSURE = `
  WITH RECURSIVE reach(hash) AS (
    SELECT unnest($1::text[])
    UNION
    SELECT unnest(b.refs) FROM blobs b JOIN reach r ON b.hash = r.hash
  )
  SELECT b.hash, b.data FROM blobs b JOIN reach r ON b.hash = r.hash`;

const SWEEP = `
  WITH RECURSIVE live(hash) AS (
    SELECT unnest(refs) FROM log_bodies
    UNION
    SELECT unnest(b.refs) FROM blobs b JOIN live l ON b.hash = l.hash
  )
  DELETE FROM blobs b WHERE NOT EXISTS (SELECT 1 FROM live l WHERE l.hash = b.hash)`;

export class PostgresBodies {
  constructor(private readonly pool: GuardedPool) {}

  async insert(entries: readonly BodyEntry[]): Promise<void> {
    if (!entries.length) return;
    // INSERT OR REPLACE in SQLite: the last entry of a log wins (one statement may not touch a row twice).
    const last = new Map<string, BodyEntry>();
    for (const e of entries) last.set(e.log_id, e);
    const blocks = new Map<string, string>();
    const rows: BodyRow[] = [];
    for (const e of last.values()) {
      const row: BodyRow = { log_id: e.log_id, created_at: e.created_at, manifest: null, response: null, summary: JSON.stringify(e.summary), refs: [] };
      if (e.full) {
        const split = splitRequest(e.full.request);
        for (const b of split.blobs) blocks.set(b.hash, b.json);
        row.manifest = deflateRawSync(split.manifest);
        // A response is unique to its request: one block.
        const json = JSON.stringify(e.full.response.toString('utf8'));
        row.response = createHash('sha256').update(json).digest('hex');
        blocks.set(row.response, json);
        row.refs = [...directRefs(split.manifest), row.response];
      }
      rows.push(row);
    }
    const write = async (c: Queryable, stored: ReadonlySet<string>) => {
      // Only new blocks are compressed: most of a turn's request was stored by the turns before.
      const fresh = [...blocks].filter(([h]) => !stored.has(h));
      await c.query(WRITE, [
        fresh.map(([h]) => h),
        fresh.map(([, json]) => deflateRawSync(json)),
        fresh.map(([, json]) => JSON.stringify(directRefs(json))),
        rows.map((r) => r.log_id),
        rows.map((r) => r.created_at),
        rows.map((r) => r.manifest),
        rows.map((r) => r.response),
        rows.map((r) => r.summary),
        rows.map((r) => JSON.stringify(r.refs)),
      ]);
    };
    if (!blocks.size) return void (await write(this.pool, new Set()));
    await this.pool.transaction(async (c) => {
      // The lock first, in its own statement: a statement's snapshot is taken when it starts.
      await c.query('SELECT pg_advisory_xact_lock_shared($1)', [LOCKS.prune]);
      const { rows: found } = await c.query<{ hash: string }>('SELECT hash FROM blobs WHERE hash = ANY($1::text[])', [[...blocks.keys()]]);
      await write(c, new Set(found.map((r) => r.hash)));
    });
  }

  async get(logId: string): Promise<StoredBodies | undefined> {
    const { rows } = await this.pool.query<Pick<BodyRow, 'manifest' | 'response' | 'summary' | 'refs'>>('SELECT manifest, response, summary, refs FROM log_bodies WHERE log_id = $1', [logId]);
    const row = rows[0];
    if (!row) return undefined;
    const out: StoredBodies = { summary: JSON.parse(row.summary) as BodySummary };
    if (!row.refs.length) {
      if (row.manifest) out.request = joinRequest(inflateRawSync(row.manifest).toString('utf8'), () => undefined);
      return out;
    }
    const { rows: found } = await this.pool.query<{ hash: string; data: Buffer }>(CLOSURE, [row.refs]);
    const texts = new Map(found.map((b) => [b.hash, inflateRawSync(b.data).toString('utf8')]));
    if (row.manifest) out.request = joinRequest(inflateRawSync(row.manifest).toString('utf8'), (h) => texts.get(h));
    const response = row.response === null ? undefined : texts.get(row.response);
    if (response !== undefined) out.response = JSON.parse(response) as string;
    return out;
  }

  /** Drops logs and bodies older than `before`, then every block no remaining body reaches. */
  async prune(before: string): Promise<{ logs: number; bodies: number; blobs: number }> {
    return this.pool.transaction(async (c) => {
      await c.query('SELECT pg_advisory_xact_lock($1)', [LOCKS.prune]);
      const logs = (await c.query('DELETE FROM logs WHERE created_at < $1', [before])).rowCount ?? 0;
      const bodies = (await c.query('DELETE FROM log_bodies WHERE created_at < $1', [before])).rowCount ?? 0;
      if (bodies === 0) return { logs, bodies, blobs: 0 };
      const blobs = (await c.query(SWEEP)).rowCount ?? 0;
      return { logs, bodies, blobs };
    });
  }

  /** Bytes of the stored blocks (for the storage benchmark). */
  async storedBytes(): Promise<number> {
    const { rows } = await this.pool.query<{ n: number }>(
      `SELECT (SELECT COALESCE(SUM(length(data)), 0) FROM blobs)::float8 + (SELECT COALESCE(SUM(length(manifest)), 0) + COALESCE(SUM(length(response)), 0) FROM log_bodies)::float8 AS n`,
    );
    return rows[0]?.n ?? 0;
  }
}
