import type { BodyEntry } from '../store/sqlite-bodies.js';
import type { LogRow } from './log-row.js';

/**
 * Writes log rows in groups: every row appended during one turn of the event loop goes to the
 * database in one transaction, on the next turn. A response's last bytes wait for its row's
 * group (a fraction of a millisecond), so a crash can lose no request a client saw finish.
 */
export interface LogSink {
  insertLogs(rows: readonly LogRow[]): Promise<void>;
  insertBodies(entries: readonly BodyEntry[]): Promise<void>;
}

export interface WriterLog {
  error(obj: object, msg: string): void;
}

export class LogWriter {
  #pending: Array<{ row: LogRow; bodies?: BodyEntry; done: () => void }> = [];
  #scheduled = false;
  #flushing: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: LogSink,
    /** Told of each group once it is stored (live events, metrics). */
    private readonly onStored: (rows: readonly LogRow[]) => void,
    private readonly log: WriterLog,
  ) {}

  /** `append` for a row that may already have been written (undefined): nothing to do then. */
  write(entry: { row: LogRow; bodies?: BodyEntry } | undefined): Promise<void> {
    return entry ? this.append(entry.row, entry.bodies) : Promise.resolve();
  }

  /** Resolves when the row is stored (or, if the database refused it, when that was logged). */
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
      try {
        await this.sink.insertLogs(rows);
        stored = true;
      } catch (e) {
        // Traffic is not stopped by a logging failure; it is shouted about.
        this.log.error({ err: e, rows: rows.length }, 'could not store request log rows');
      } finally {
        for (const g of group) g.done();
      }
      // Bodies (and listeners) come after the responses are released: the rows are what a
      // crash must not lose; splitting and compressing bodies should not delay an answer.
      const bodies = group.flatMap((g) => (g.bodies ? [g.bodies] : []));
      try {
        if (bodies.length) await this.sink.insertBodies(bodies);
      } catch (e) {
        this.log.error({ err: e, bodies: bodies.length }, 'could not store request bodies');
      }
      if (stored) this.onStored(rows);
    });
    return this.#flushing;
  }

  /** Stores whatever is still pending (on shutdown). */
  async close(): Promise<void> {
    await this.#flush();
  }
}
