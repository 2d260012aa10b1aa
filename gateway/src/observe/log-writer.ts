import type { BodyEntry } from '../store/sqlite-bodies.js';
import { LogJournal } from './log-journal.js';
import type { LogRow } from './log-row.js';

/**
 * Writes log rows in groups: every row appended during one turn of the event loop goes to the
 * database in one transaction, on the next turn. A response's last bytes wait for its row's
 * group (a fraction of a millisecond), so a crash can lose no request a client saw finish.
 *
 * When the database refuses a group (down, connection lost, no answer within `insertTimeoutMs`),
 * the group goes to the journal in the data directory instead (log-journal.ts), fsync'ed before
 * the responses are released; a replayer moves it into the database once that answers, with
 * back-off, and on the next start if the process stops first. While the journal holds rows, new
 * groups join it, so the database receives rows in the order they were acknowledged.
 */
export interface LogSink {
  insertLogs(rows: readonly LogRow[]): Promise<void>;
  insertBodies(entries: readonly BodyEntry[]): Promise<void>;
}

export interface WriterLog {
  error(obj: object, msg: string): void;
  warn?(obj: object, msg: string): void;
}

export interface LogWriterOptions {
  /** The data directory, for the journal; without it, rows the database refuses are only logged. */
  journalDir?: string;
  /** How long a group waits for the database before it is journaled instead. */
  insertTimeoutMs?: number;
  /** Back-off of the replayer between failed attempts, doubling from min to max. */
  retryMinMs?: number;
  retryMaxMs?: number;
}

/** Rejects after `ms`; the call itself may still finish later (inserts are idempotent). */
function within<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the database did not answer within ${ms} ms`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

export class LogWriter {
  #pending: Array<{ row: LogRow; bodies?: BodyEntry; done: () => void }> = [];
  #scheduled = false;
  #flushing: Promise<void> = Promise.resolve();
  readonly #journal: LogJournal | undefined;
  #retryMs: number;
  #timer: NodeJS.Timeout | undefined;
  #replaying: Promise<void> | undefined;
  /** Set during an outage, so it is reported once, not per group. */
  #outage = false;
  #droppedBodies = 0;
  #closed = false;

  constructor(
    private readonly sink: LogSink,
    /** Told of each group once it is stored (live events, metrics); journaled rows when replayed. */
    private readonly onStored: (rows: readonly LogRow[]) => void,
    private readonly log: WriterLog,
    private readonly opts: LogWriterOptions = {},
  ) {
    this.#retryMs = opts.retryMinMs ?? 500;
    this.#journal = opts.journalDir === undefined ? undefined : new LogJournal(opts.journalDir);
    // Rows journaled by an earlier run (the database was down when it stopped) go in first.
    void this.#journal?.recover().then((found) => found && this.#scheduleReplay(0), (e: unknown) => this.log.error({ err: String(e) }, 'could not read the request log journal'));
  }

  /** `append` for a row that may already have been written (undefined): nothing to do then. */
  write(entry: { row: LogRow; bodies?: BodyEntry } | undefined): Promise<void> {
    return entry ? this.append(entry.row, entry.bodies) : Promise.resolve();
  }

  /** Resolves when the row is stored or journaled (or, if neither worked, when that was logged). */
  append(row: LogRow, bodies?: BodyEntry): Promise<void> {
    return new Promise((resolve) => {
      this.#pending.push({ row, bodies, done: resolve });
      if (!this.#scheduled) {
        this.#scheduled = true;
        setImmediate(() => void this.#flush());
      }
    });
  }

  #flush(): Promise<void> {
    this.#scheduled = false;
    const group = this.#pending;
    this.#pending = [];
    if (group.length === 0) return this.#flushing;
    const rows = group.map((g) => g.row);
    // Groups are stored in order, one at a time.
    this.#flushing = this.#flushing.then(async () => {
      let stored = false;
      let journaled = false;
      try {
        if (!this.#journal?.holdsRows) {
          await within(this.sink.insertLogs(rows), this.opts.insertTimeoutMs ?? 5_000).then(
            () => (stored = true),
            (e: unknown) => this.#refused(e, rows.length),
          );
        }
        if (!stored) journaled = await this.#journalRows(rows);
      } finally {
        for (const g of group) g.done();
      }
      // Bodies (and listeners) come after the responses are released: the rows are what a
      // crash must not lose; splitting and compressing bodies should not delay an answer.
      const bodies = group.flatMap((g) => (g.bodies ? [g.bodies] : []));
      if (bodies.length) await this.#storeBodies(bodies, journaled);
      if (stored) this.onStored(rows);
    });
    return this.#flushing;
  }

  #refused(e: unknown, rows: number): void {
    if (!this.#journal) return this.log.error({ err: String(e), rows }, 'could not store request log rows');
    if (this.#outage) return;
    this.#outage = true;
    (this.log.warn ?? this.log.error)({ err: String(e), rows }, 'the database refused request log rows; they go to the journal in the data directory until it takes them');
  }

  /** True when the rows are safely in the journal. */
  async #journalRows(rows: readonly LogRow[]): Promise<boolean> {
    if (!this.#journal) return false;
    try {
      await this.#journal.appendRows(rows);
      this.#scheduleReplay(this.#retryMs);
      return true;
    } catch (e) {
      // Traffic is not stopped by a logging failure; it is shouted about.
      this.log.error({ err: String(e), rows: rows.length }, 'could not store request log rows, nor journal them');
      return false;
    }
  }

  /** Bodies follow their rows: into the journal when the rows went there, else into the store. */
  async #storeBodies(bodies: readonly BodyEntry[], rowsJournaled: boolean): Promise<void> {
    if (!rowsJournaled) {
      try {
        await within(this.sink.insertBodies(bodies), this.opts.insertTimeoutMs ?? 5_000);
        return;
      } catch (e) {
        if (!this.#journal) return this.log.error({ err: String(e), bodies: bodies.length }, 'could not store request bodies');
      }
    }
    try {
      const dropped = (await this.#journal?.appendBodies(bodies)) ?? 0;
      if (dropped === 0) return;
      this.#droppedBodies += dropped;
      (this.log.warn ?? this.log.error)({ dropped, dropped_total: this.#droppedBodies }, 'request bodies dropped: the journal holds its limit of body bytes until the database is back');
    } catch (e) {
      this.log.error({ err: String(e), bodies: bodies.length }, 'could not store request bodies, nor journal them');
    }
  }

  #scheduleReplay(delayMs: number): void {
    if (this.#closed || this.#timer || this.#replaying) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#replaying = this.#replay().finally(() => {
        this.#replaying = undefined;
        // Rows journaled while this replay ran are picked up by the next one.
        if (this.#journal?.holdsRows) this.#scheduleReplay(this.#retryMs);
      });
    }, delayMs);
    this.#timer.unref();
  }

  async #replay(): Promise<void> {
    const journal = this.#journal;
    if (!journal) return;
    try {
      const r = await journal.replay(this.sink, this.onStored);
      this.#retryMs = this.opts.retryMinMs ?? 500;
      if (r.skipped) this.log.error({ lines: r.skipped }, 'request log journal: skipped lines that do not parse (cut short by a crash)');
      if (r.rejected) this.log.error({ rows: r.rejected }, 'request log rows the database refused for their content were moved to log-journal.rejected.jsonl in the data directory');
      if (r.bodiesRefused) this.log.error({ bodies: r.bodiesRefused }, 'journaled request bodies the database refused for their content were dropped');
      if (r.rows) (this.log.warn ?? this.log.error)({ rows: r.rows }, 'request log rows moved from the journal into the database');
      if (!r.empty) this.#retryMs = 0;
      else this.#outage = false;
    } catch {
      // Still down: the files stay; the next attempt starts over (inserts ignore rows already in).
      this.#retryMs = Math.min(Math.max(this.#retryMs * 2, this.opts.retryMinMs ?? 500), this.opts.retryMaxMs ?? 5_000);
    }
  }

  /** Stores (or journals) whatever is still pending, on shutdown; the journal stays for the next start. */
  async close(): Promise<void> {
    await this.#flush();
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#replaying;
  }
}
