// The writers of log rows and spend while the database refuses them: rows go to the journal and
// reach the database once it answers (each once, also after a replay that failed half-way, and
// from a journal left by an earlier run); spend waits in memory, summed, and is retried.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SpendWriter } from '../../gateway/src/governance/spend-writer.js';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { LogWriter } from '../../gateway/src/observe/log-writer.js';
import type { BodyEntry } from '../../gateway/src/store/sqlite-bodies.js';
import type { SpendRow } from '../../gateway/src/store/types.js';
import { StoreUnavailableError } from '../../gateway/src/store/unavailable.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const tempDir = () => dirs[dirs.push(mkdtempSync(join(tmpdir(), 'gatehouse-outage-'))) - 1]!;

const row = (i: number) => ({ id: `log-${String(i).padStart(4, '0')}`, created_at: new Date(0).toISOString(), metadata: {} }) as unknown as LogRow;

/** A database that can be switched off; stores rows by id, as the primary key would. */
class FakeSink {
  up = true;
  /** When set, the n-th insert call from now fails (a connection lost half-way through a replay). */
  failOnCall: number | undefined;
  readonly rows = new Map<string, LogRow>();
  readonly bodies = new Map<string, BodyEntry>();
  inserts = 0;
  /** A row id the database refuses for its content (as PostgreSQL refuses \u0000 in jsonb). */
  poison: string | undefined;

  async insertLogs(rows: readonly LogRow[]): Promise<void> {
    this.inserts++;
    if (!this.up || this.failOnCall === this.inserts) throw new StoreUnavailableError('down', 'ECONNREFUSED', '127.0.0.1:5432');
    if (rows.some((r) => r.id === this.poison)) throw new Error('unsupported Unicode escape sequence');
    for (const r of rows) if (!this.rows.has(r.id)) this.rows.set(r.id, r);
  }

  async insertBodies(entries: readonly BodyEntry[]): Promise<void> {
    if (!this.up) throw new StoreUnavailableError('down', 'ECONNREFUSED', '127.0.0.1:5432');
    for (const e of entries) this.bodies.set(e.log_id, e);
  }
}

const quiet = { error: () => undefined, warn: () => undefined };
const until = async (ok: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!ok() && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
  expect(ok()).toBe(true);
};

describe('log rows while the database is down', () => {
  it('journals them, releases the responses, and stores each once when it is back', async () => {
    const dir = tempDir();
    const sink = new FakeSink();
    const seen: string[] = [];
    const writer = new LogWriter(sink, (rows) => seen.push(...rows.map((r) => r.id)), quiet, { journalDir: dir, retryMinMs: 10, retryMaxMs: 20 });
    await writer.append(row(1));
    sink.up = false;
    const body: BodyEntry = { log_id: 'log-0002', created_at: row(2).created_at, summary: { request_bytes: 2, response_bytes: 2, messages: 1, tools: [], content_blocks: {}, system_blocks: 0 }, full: { request: Buffer.from('{}'), response: Buffer.from('ok') } };
    await Promise.all([writer.append(row(2), body), ...Array.from({ length: 1200 }, (_, i) => writer.append(row(3 + i)))]);
    expect(sink.rows.size).toBe(1);
    // Replayed in batches; the second batch fails once, so the first is inserted twice.
    sink.failOnCall = sink.inserts + 2;
    sink.up = true;
    await until(() => sink.rows.size === 1202 && !existsSync(join(dir, 'log-journal.jsonl')) && !existsSync(join(dir, 'log-journal.replaying.jsonl')));
    expect(sink.bodies.get('log-0002')?.full?.response.toString()).toBe('ok');
    // Rows go in the order they were acknowledged.
    expect([...sink.rows.keys()]).toEqual([...sink.rows.keys()].sort());
    await writer.close();
  });

  it('sets aside a row the database refuses for its content, and stores the rest', async () => {
    const dir = tempDir();
    const sink = new FakeSink();
    sink.up = false;
    sink.poison = row(5).id;
    const writer = new LogWriter(sink, () => undefined, quiet, { journalDir: dir, retryMinMs: 10, retryMaxMs: 20 });
    await Promise.all(Array.from({ length: 10 }, (_, i) => writer.append(row(i))));
    sink.up = true;
    await until(() => sink.rows.size === 9 && !existsSync(join(dir, 'log-journal.jsonl')) && !existsSync(join(dir, 'log-journal.replaying.jsonl')));
    expect(readFileSync(join(dir, 'log-journal.rejected.jsonl'), 'utf8')).toContain(row(5).id);
    // Later rows go straight in again.
    await writer.append(row(20));
    expect(sink.rows.has(row(20).id)).toBe(true);
    await writer.close();
  });

  it('replays a journal an earlier run left behind', async () => {
    const dir = tempDir();
    const sink = new FakeSink();
    sink.up = false;
    const first = new LogWriter(sink, () => undefined, quiet, { journalDir: dir, retryMinMs: 10, retryMaxMs: 20 });
    await Promise.all([1, 2, 3].map((i) => first.append(row(i))));
    await first.close();
    expect(sink.rows.size).toBe(0);
    sink.up = true;
    const second = new LogWriter(sink, () => undefined, quiet, { journalDir: dir });
    await until(() => sink.rows.size === 3);
    await second.close();
  });
});

describe('spend while the database is down', () => {
  class FakeSpend {
    up = false;
    readonly amounts = new Map<string, number>();
    async addSpend(rows: readonly SpendRow[]): Promise<void> {
      if (!this.up) throw new Error('down');
      for (const r of rows) this.amounts.set(r.scope, (this.amounts.get(r.scope) ?? 0) + r.amount);
    }
    async getSpend(): Promise<number> {
      return 0;
    }
    async listSpend(): Promise<SpendRow[]> {
      return [];
    }
    async claimAlert(): Promise<boolean> {
      return true;
    }
  }

  it('keeps amounts in memory, summed, and stores them once it is back; reports what a shutdown would lose', async () => {
    const store = new FakeSpend();
    const errors: string[] = [];
    const writer = new SpendWriter(store, (e) => errors.push(String(e)), 100_000, 20);
    const spend = (amount: number): SpendRow => ({ scope: 'key:a', unit: 'usd', period: '2026-11', amount });
    // Settlements are not held up by the outage.
    await Promise.all([writer.add([spend(1)]), writer.add([spend(2)])]);
    await writer.add([spend(3)]);
    await writer.flush();
    expect(errors.at(-1)).toContain('key:a 2026-11 +6 usd');
    store.up = true;
    await writer.flush();
    expect(store.amounts.get('key:a')).toBe(6);
    // Retried on its own with back-off, without a flush.
    store.up = false;
    await writer.add([spend(4)]);
    store.up = true;
    await until(() => store.amounts.get('key:a') === 10);
  });
});
