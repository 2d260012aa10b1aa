import type Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { joinRequest, reachable, splitRequest, type BodySummary } from '../observe/bodies.js';

/**
 * Logged bodies in SQLite: each distinct block once, deflated (`blobs`), and per log a manifest
 * of the request, the response's block and, under the "metadata" policy, only a summary.
 */
export const BODY_MIGRATION = `
  CREATE TABLE blobs (hash TEXT PRIMARY KEY, data BLOB NOT NULL);
  CREATE TABLE log_bodies (log_id TEXT PRIMARY KEY, created_at TEXT NOT NULL, manifest BLOB, response TEXT, summary TEXT NOT NULL);
  CREATE INDEX log_bodies_created ON log_bodies(created_at);`;

export interface BodyEntry {
  log_id: string;
  created_at: string;
  summary: BodySummary;
  /** Present under the "full" policy. */
  full?: { request: Buffer; response: Buffer };
}

export interface StoredBodies {
  summary: BodySummary;
  request?: unknown;
  /** The response as the client received it (JSON text or SSE events). */
  response?: string;
}

export class SqliteBodies {
  readonly #has;
  readonly #putBlob;
  readonly #getBlob;
  readonly #put;
  readonly #get;

  constructor(private readonly db: Database.Database) {
    this.#has = db.prepare(`SELECT 1 FROM blobs WHERE hash = ?`).pluck();
    this.#putBlob = db.prepare(`INSERT OR IGNORE INTO blobs (hash, data) VALUES (?, ?)`);
    this.#getBlob = db.prepare(`SELECT data FROM blobs WHERE hash = ?`).pluck();
    this.#put = db.prepare(`INSERT OR REPLACE INTO log_bodies (log_id, created_at, manifest, response, summary) VALUES (?, ?, ?, ?, ?)`);
    this.#get = db.prepare(`SELECT manifest, response, summary FROM log_bodies WHERE log_id = ?`);
  }

  #blob(hash: string, json: string): void {
    // Only new blocks are compressed: most of a turn's request was stored by the turns before.
    if (this.#has.get(hash) === undefined) this.#putBlob.run(hash, deflateRawSync(json));
  }

  #text(hash: string): string | undefined {
    const data = this.#getBlob.get(hash) as Buffer | undefined;
    return data && inflateRawSync(data).toString('utf8');
  }

  insert(entries: readonly BodyEntry[]): void {
    this.db.transaction(() => {
      for (const e of entries) {
        let manifest: Buffer | null = null;
        let response: string | null = null;
        if (e.full) {
          const split = splitRequest(e.full.request);
          for (const b of split.blobs) this.#blob(b.hash, b.json);
          manifest = deflateRawSync(split.manifest);
          // A response is unique to its request: one block.
          const json = JSON.stringify(e.full.response.toString('utf8'));
          response = createHash('sha256').update(json).digest('hex');
          this.#blob(response, json);
        }
        this.#put.run(e.log_id, e.created_at, manifest, response, JSON.stringify(e.summary));
      }
    })();
  }

  get(logId: string): StoredBodies | undefined {
    const row = this.#get.get(logId) as { manifest: Buffer | null; response: string | null; summary: string } | undefined;
    if (!row) return undefined;
    const out: StoredBodies = { summary: JSON.parse(row.summary) as BodySummary };
    if (row.manifest) out.request = joinRequest(inflateRawSync(row.manifest).toString('utf8'), (h) => this.#text(h));
    const response = row.response === null ? undefined : this.#text(row.response);
    if (response !== undefined) out.response = JSON.parse(response) as string;
    return out;
  }

  /** Drops logs and bodies older than `before`, then every block no remaining body reaches. */
  prune(before: string): { logs: number; bodies: number; blobs: number } {
    const logs = this.db.transaction(() => {
      this.db.prepare(`DELETE FROM log_metadata WHERE seq IN (SELECT seq FROM logs WHERE created_at < ?)`).run(before);
      return this.db.prepare(`DELETE FROM logs WHERE created_at < ?`).run(before).changes;
    })();
    const bodies = this.db.prepare(`DELETE FROM log_bodies WHERE created_at < ?`).run(before).changes;
    if (bodies === 0) return { logs, bodies, blobs: 0 };
    const seen = new Set<string>();
    const get = (h: string) => this.#text(h);
    for (const r of this.db.prepare(`SELECT manifest, response FROM log_bodies WHERE manifest IS NOT NULL`).iterate() as Iterable<{ manifest: Buffer; response: string | null }>) {
      reachable(inflateRawSync(r.manifest).toString('utf8'), get, seen);
      if (r.response) seen.add(r.response);
    }
    let blobs = 0;
    const del = this.db.prepare(`DELETE FROM blobs WHERE hash = ?`);
    const all = this.db.prepare(`SELECT hash FROM blobs`).pluck().all() as string[];
    this.db.transaction(() => {
      for (const h of all) if (!seen.has(h)) blobs += del.run(h).changes;
    })();
    return { logs, bodies, blobs };
  }

  /** Bytes of the stored blocks (for the storage benchmark). */
  storedBytes(): number {
    return Number(this.db.prepare(`SELECT COALESCE(SUM(LENGTH(data)), 0) FROM blobs`).pluck().get()) + Number(this.db.prepare(`SELECT COALESCE(SUM(LENGTH(manifest)), 0) + COALESCE(SUM(LENGTH(response)), 0) FROM log_bodies`).pluck().get());
  }
}
