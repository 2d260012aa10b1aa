import { createReadStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { BodyEntry } from '../store/sqlite-bodies.js';
import { StoreUnavailableError } from '../store/unavailable.js';
import type { LogRow } from './log-row.js';

/**
 * Log rows the store refused (database down, connection lost, timed out), kept in the data
 * directory until it takes them: JSON lines, fsync'ed before the rows' responses are released,
 * so a row the client saw finish survives the outage and a crash or restart during it.
 *
 * Appends go to `log-journal.jsonl`. A replay first renames it to `log-journal.replaying.jsonl`
 * (so appends carry on into a fresh file), stores that file's rows and bodies in batches, then
 * deletes it. Inserting a row twice is harmless (log ids are primary keys, inserts ignore
 * conflicts), so a replay that fails half-way is simply run again from the start.
 *
 * A row the database refuses for its content, not for an outage, must not block every row after
 * it: such a batch is retried row by row, and the rows refused again are moved to
 * `log-journal.rejected.jsonl` (reported, kept for the admin, never retried).
 */

const ACTIVE = 'log-journal.jsonl';
const REPLAYING = 'log-journal.replaying.jsonl';
const REJECTED = 'log-journal.rejected.jsonl';
const ROW_BATCH = 500;
const BODY_BATCH = 20;

export interface ReplaySink {
  insertLogs(rows: readonly LogRow[]): Promise<void>;
  insertBodies(entries: readonly BodyEntry[]): Promise<void>;
}

/** A journal line: a row, or a body entry with its buffers as base64. */
type Line = { r: LogRow } | { b: Omit<BodyEntry, 'full'> & { full?: { request: string; response: string } } };

async function syncDir(dir: string): Promise<void> {
  const d = await open(dir, 'r');
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}

const exists = (path: string) => stat(path).then((s) => s.size > 0, () => false);

export class LogJournal {
  readonly #active: string;
  readonly #replaying: string;
  readonly #rejected: string;
  /** Appends and the file switches of a replay, one at a time. */
  #chain: Promise<unknown> = Promise.resolve();
  #holdsRows = false;
  #bodyBytes = 0;

  constructor(
    dir: string,
    /** Bodies beyond this many bytes in the journal are dropped (counted); rows never are. */
    private readonly maxBodyBytes = 256 * 1024 * 1024,
  ) {
    this.#active = join(dir, ACTIVE);
    this.#replaying = join(dir, REPLAYING);
    this.#rejected = join(dir, REJECTED);
  }

  /** Whether rows are waiting here (new rows then follow them, so the store gets them in order). */
  get holdsRows(): boolean {
    return this.#holdsRows;
  }

  /** Looks for a journal left by an earlier run; true when there is something to replay. */
  async recover(): Promise<boolean> {
    const found = (await exists(this.#active)) || (await exists(this.#replaying));
    if (found) this.#holdsRows = true;
    return found;
  }

  /** Resolves once the rows are on disk (fsync'ed). */
  appendRows(rows: readonly LogRow[]): Promise<void> {
    // Set now, so the next group follows these rows; set again once written, in case a replay
    // found the journal empty in between and cleared it.
    this.#holdsRows = true;
    return this.#append(rows.map((r) => JSON.stringify({ r } satisfies Line)), this.#active, () => (this.#holdsRows = true));
  }

  /** Bodies are kept up to `maxBodyBytes`; returns how many were dropped for want of room. */
  async appendBodies(entries: readonly BodyEntry[]): Promise<number> {
    const lines: string[] = [];
    let dropped = 0;
    for (const e of entries) {
      const size = (e.full?.request.length ?? 0) + (e.full?.response.length ?? 0);
      if (this.#bodyBytes + size > this.maxBodyBytes) {
        dropped++;
        continue;
      }
      this.#bodyBytes += size;
      const full = e.full && { request: e.full.request.toString('base64'), response: e.full.response.toString('base64') };
      lines.push(JSON.stringify({ b: { ...e, full } } satisfies Line));
    }
    if (lines.length) await this.#append(lines);
    return dropped;
  }

  #append(lines: string[], file = this.#active, written?: () => void): Promise<void> {
    const done = this.#chain.then(async () => {
      const fh = await open(file, 'a', 0o600);
      let created = false;
      try {
        created = (await fh.stat()).size === 0;
        await fh.appendFile(lines.join('\n') + '\n');
        // The data, not just the page cache: this is what makes the rows acknowledged.
        await fh.datasync();
      } finally {
        await fh.close();
      }
      // A new file's name lives in the directory: synced too, or a power cut could lose the file.
      if (created) await syncDir(dirname(file));
      written?.();
    });
    this.#chain = done.catch(() => undefined);
    return done;
  }

  /**
   * Moves everything journaled into `sink`. Resolves with the number of rows stored and whether
   * the journal is now empty; rejects (leaving the files for the next attempt) when the store fails.
   */
  async replay(sink: ReplaySink, onRows: (rows: readonly LogRow[]) => void): Promise<{ rows: number; empty: boolean; skipped: number; rejected: number; bodiesRefused: number }> {
    const switched = this.#chain.then(async () => {
      // A replay file left by an interrupted replay goes first; it holds the older rows.
      if (!(await exists(this.#replaying)) && (await exists(this.#active))) await rename(this.#active, this.#replaying);
    });
    this.#chain = switched.catch(() => undefined);
    await switched;
    const out = (await exists(this.#replaying)) ? await this.#replayFile(sink, onRows) : { rows: 0, skipped: 0, rejected: 0, bodiesRefused: 0 };
    await rm(this.#replaying, { force: true });
    // Decided inside the chain: no append can slip in between the check and the flag.
    const empty = this.#chain.then(async () => {
      const left = await exists(this.#active);
      if (!left) {
        this.#holdsRows = false;
        this.#bodyBytes = 0;
      }
      return !left;
    });
    this.#chain = empty.catch(() => undefined);
    return { ...out, empty: await empty };
  }

  /** Inserts a batch; on a refusal that is not an outage, row by row, setting aside the refused. */
  async #insert(sink: ReplaySink, batch: readonly LogRow[]): Promise<{ stored: LogRow[]; rejected: LogRow[] }> {
    try {
      await sink.insertLogs(batch);
      return { stored: [...batch], rejected: [] };
    } catch (e) {
      if (e instanceof StoreUnavailableError || batch.length === 1) throw e;
    }
    const out = { stored: [] as LogRow[], rejected: [] as LogRow[] };
    for (const r of batch) {
      try {
        await sink.insertLogs([r]);
        out.stored.push(r);
      } catch (e) {
        if (e instanceof StoreUnavailableError) throw e;
        out.rejected.push(r);
      }
    }
    if (out.rejected.length) await this.#append(out.rejected.map((r) => JSON.stringify({ r } satisfies Line)), this.#rejected);
    return out;
  }

  async #replayFile(sink: ReplaySink, onRows: (rows: readonly LogRow[]) => void): Promise<{ rows: number; skipped: number; rejected: number; bodiesRefused: number }> {
    let rows: LogRow[] = [];
    let bodies: BodyEntry[] = [];
    let stored = 0;
    let skipped = 0;
    let rejected = 0;
    let bodiesRefused = 0;
    const flushRows = async () => {
      if (!rows.length) return;
      const batch = rows;
      rows = [];
      const r = await this.#insert(sink, batch);
      stored += r.stored.length;
      rejected += r.rejected.length;
      if (r.stored.length) onRows(r.stored);
    };
    const flushBodies = async () => {
      // A row before its bodies, as on the live path.
      await flushRows();
      if (!bodies.length) return;
      const batch = bodies;
      bodies = [];
      try {
        await sink.insertBodies(batch);
      } catch (e) {
        // Bodies refused for their content are given up (counted); an outage stops the replay.
        if (e instanceof StoreUnavailableError) throw e;
        bodiesRefused += batch.length;
      }
    };
    const lines = createInterface({ input: createReadStream(this.#replaying, 'utf8'), crlfDelay: Infinity });
    for await (const text of lines) {
      if (!text.trim()) continue;
      let line: Line;
      try {
        line = JSON.parse(text) as Line;
      } catch {
        // Only a line cut short by a crash can be torn, and its rows were never acknowledged.
        skipped++;
        continue;
      }
      if ('r' in line) {
        rows.push(line.r);
        if (rows.length >= ROW_BATCH) await flushRows();
      } else {
        const { full, ...rest } = line.b;
        bodies.push({ ...rest, ...(full ? { full: { request: Buffer.from(full.request, 'base64'), response: Buffer.from(full.response, 'base64') } } : {}) });
        if (bodies.length >= BODY_BATCH) await flushBodies();
      }
    }
    await flushBodies();
    return { rows: stored, skipped, rejected, bodiesRefused };
  }
}
