// PostgreSQL going away and coming back under a running gateway: keys it has seen keep working,
// keys it has not get a clear 503, /readyz says not ready, and every log row a client saw finish
// reaches the database once it is back (from the journal in the data directory), exactly once;
// also when the gateway is stopped during the outage and started again afterwards.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { createDatabase, PgCluster } from '../helpers/postgres.js';

let cluster: PgCluster;
let emu: AnthropicEmulator;

beforeAll(async () => {
  cluster = await PgCluster.create();
  emu = await AnthropicEmulator.start();
});
afterAll(async () => {
  await emu?.close();
  cluster?.destroy();
});

const JOURNAL = 'log-journal.jsonl';
const REPLAYING = 'log-journal.replaying.jsonl';

/** What the journal holds: appends, and the part a failed replay attempt set aside. */
function journalText(dir: string): string {
  return [REPLAYING, JOURNAL].map((f) => (existsSync(join(dir, f)) ? readFileSync(join(dir, f), 'utf8') : '')).join('');
}

// Whether the test stopped the cluster, so a failing test still leaves it running for the next.
let down = false;
function stop(): void {
  cluster.stop();
  down = true;
}
function restart(): void {
  if (down) cluster.start();
  down = false;
}

/** A gateway on its own database of the test's cluster (with a password in the URL, to check it is never shown). */
function gatewayOn(url: string, dataDir?: string): Promise<TestGateway> {
  const withPassword = new URL(url);
  withPassword.password = 'not-shown-s3cret';
  return startGateway(
    anthropicConfig(emu.url, { store: { kind: 'postgres', url: 'env:PG_FAULTS_URL', pool_size: 4 } }),
    { TEST_ANTHROPIC_KEY: emu.apiKey, PG_FAULTS_URL: withPassword.toString() },
    dataDir,
  );
}

interface Answer {
  status: number;
  id: string;
  body: { type?: string; error?: { type: string; message: string; details?: { error_code: string } } };
  headers: Headers;
}

async function ask(gw: TestGateway, key: string, stream = false): Promise<Answer> {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'x-api-key': key, 'anthropic-version': '2023-06-01', 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, stream, messages: [{ role: 'user', content: 'hi' }] }),
  });
  const text = await res.text();
  return { status: res.status, id: res.headers.get('x-portkey-trace-id') ?? res.headers.get('request-id') ?? '', body: stream || !text ? {} : (JSON.parse(text) as Answer['body']), headers: res.headers };
}

/** `n` requests, ten at a time, every one answered 200; returns their log ids. */
async function askMany(gw: TestGateway, key: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i += 10) {
    const answers = await Promise.all(Array.from({ length: Math.min(10, n - i) }, (_, j) => ask(gw, key, j % 2 === 0)));
    for (const a of answers) {
      expect(a.status, JSON.stringify(a.body)).toBe(200);
      ids.push(a.id);
    }
  }
  return ids;
}

/** Polls the admin logs API until every id is listed (or the deadline passes); returns the listed ids. */
async function loggedIds(gw: TestGateway, want: readonly string[], deadlineMs = 30_000): Promise<string[]> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await gw.admin<{ data: Array<{ id: string }> }>('GET', '/api/admin/logs?limit=200');
    const ids = r.status === 200 ? r.body.data.map((row) => row.id) : [];
    if (want.every((id) => ids.includes(id)) || Date.now() > until) return ids;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Log ids stored more than once, straight from the database. */
async function duplicates(url: string): Promise<unknown[]> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query('SELECT id, count(*) AS n FROM logs GROUP BY id HAVING count(*) > 1')).rows;
  } finally {
    await c.end();
  }
}

async function readyStatus(gw: TestGateway): Promise<{ status: number; body: { status: string; reason?: string } }> {
  const res = await fetch(`${gw.url}/readyz`);
  return { status: res.status, body: (await res.json()) as { status: string; reason?: string } };
}

async function eventually<T>(probe: () => Promise<T>, ok: (v: T) => boolean, deadlineMs = 15_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > until) return v;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('PostgreSQL goes away and comes back', () => {
  it('answers cached keys, refuses unseen ones with a clear 503, and loses no log row', async () => {
    const url = await createDatabase(cluster.adminUrl);
    const gw = await gatewayOn(url);
    try {
      const cached = await gw.createKey({ name: 'cached' });
      const unseen = await gw.createKey({ name: 'unseen' });
      const before = await askMany(gw, cached.key, 10);
      expect((await readyStatus(gw)).status).toBe(200);

      stop();
      const stoppedAt = Date.now();
      // Well past the key cache's one-second TTL: the cached answer must outlive it.
      const during = await askMany(gw, cached.key, 20);
      await new Promise((resolve) => setTimeout(resolve, 1_100));
      during.push(...(await askMany(gw, cached.key, 10)));
      expect(Date.now() - stoppedAt, 'requests during the outage must not wait for timeouts').toBeLessThan(15_000);

      const ready = await eventually(() => readyStatus(gw), (r) => r.status === 503);
      expect(ready).toEqual({ status: 503, body: { status: 'store_unavailable', reason: `cannot reach PostgreSQL at 127.0.0.1:${cluster.port}` } });
      const health = await fetch(`${gw.url}/healthz`);
      expect(health.status).toBe(200);

      const refused = await ask(gw, unseen.key);
      expect(refused.status).toBe(503);
      expect(refused.headers.get('x-should-retry')).toBe('true');
      expect(refused.body.type).toBe('error');
      expect(refused.body.error?.type).toBe('overloaded_error');
      expect(refused.body.error?.details?.error_code).toBe('store_unavailable');
      expect(refused.body.error?.message).toContain(`The gateway cannot reach its database (PostgreSQL at 127.0.0.1:${cluster.port}) to check this key; try again shortly.`);

      // The admin API: the same kind of answer, at once, never a stack trace or a hang.
      const t0 = Date.now();
      const keys = await gw.admin<Answer['body']>('GET', '/api/admin/keys');
      expect(Date.now() - t0).toBeLessThan(5_000);
      expect(keys.status).toBe(503);
      expect(keys.body.error?.details?.error_code).toBe('store_unavailable');
      for (const text of [JSON.stringify(refused.body), JSON.stringify(keys.body), JSON.stringify(ready.body)]) {
        expect(text).not.toContain('not-shown-s3cret');
        expect(text).not.toContain('postgres://');
      }

      // The rows of the outage are acknowledged: on disk in the data directory.
      const journal = journalText(gw.dataDir);
      for (const id of during) expect(journal).toContain(id);

      restart();
      // The refused request has its row too, written during the outage.
      const all = [...before, ...during, refused.id];
      const listed = await loggedIds(gw, all);
      expect([...listed].sort()).toEqual([...all].sort());
      expect(await duplicates(url)).toEqual([]);
      expect((await eventually(() => readyStatus(gw), (r) => r.status === 200)).status).toBe(200);
      // The key unseen before the outage works now.
      expect((await ask(gw, unseen.key)).status).toBe(200);
      expect(journalText(gw.dataDir)).toBe('');
    } finally {
      restart();
      await gw.close();
    }
  }, 90_000);

  it('replays the journal of a gateway stopped during the outage when the next one starts', async () => {
    const url = await createDatabase(cluster.adminUrl);
    const dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-pgfaults-'));
    try {
      const first = await gatewayOn(url, dataDir);
      const key = await first.createKey({ name: 'restart' });
      const before = await askMany(first, key.key, 5);
      stop();
      const during = await askMany(first, key.key, 20);
      // Graceful stop while the database is still down: the rows stay in the journal.
      await first.close();
      const journal = journalText(dataDir);
      for (const id of during) expect(journal).toContain(id);

      restart();
      const second = await gatewayOn(url, dataDir);
      try {
        const all = [...before, ...during];
        const listed = await loggedIds(second, all);
        expect([...listed].sort()).toEqual([...all].sort());
        expect(await duplicates(url)).toEqual([]);
        expect(journalText(dataDir)).toBe('');
      } finally {
        await second.close();
      }
    } finally {
      restart();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
