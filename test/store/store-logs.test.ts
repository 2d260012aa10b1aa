// Request logs, analytics and bodies against SQLite and PostgreSQL: each store answers as the
// contract says, and both give the same answer to every query over the same rows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { summarize } from '../../gateway/src/observe/bodies.js';
import type { LogQuery } from '../../gateway/src/store/log-query.js';
import type { AnalyticsQuery, LogFilter, Store } from '../../gateway/src/store/types.js';
import { at, logBatch, openStore, STORE_KINDS, type OpenedStore, type StoreKind } from './fixtures.js';

const ROWS = logBatch();
const q = (over: Partial<LogQuery> = {}): LogQuery => ({ metadata: {}, limit: 50, ...over });
const nearestRank = (values: number[], p: number) => [...values].sort((x, y) => x - y)[Math.ceil((p / 100) * values.length) - 1] ?? null;

/** Every page of a query, following cursors. */
async function allPages(store: Store, query: LogQuery): Promise<LogRow[][]> {
  const pages: LogRow[][] = [];
  let cursor: string | undefined;
  do {
    const page = await store.queryLogs({ ...query, cursor });
    pages.push(page.rows);
    cursor = page.next_cursor ?? undefined;
  } while (cursor);
  return pages;
}

const request = (turns: number) =>
  Buffer.from(
    JSON.stringify({
      model: 'claude-sonnet-5-5',
      max_tokens: 64,
      system: [{ type: 'text', text: 'You are terse.' }],
      tools: [{ name: 'read_file', input_schema: { type: 'object' } }],
      messages: Array.from({ length: turns }, (_, i) => ({ role: i % 2 ? 'assistant' : 'user', content: [{ type: 'text', text: `turn ${i}` }] })),
    }),
  );

describe.each(STORE_KINDS)('%s store', (kind) => {
  let opened: OpenedStore;
  let store: Store;
  beforeAll(async () => {
    opened = await openStore(kind);
    store = opened.store;
    // Two batches, the second repeating a row (ignored, as a retried batch would be).
    await store.insertLogs(ROWS.slice(0, 25));
    await store.insertLogs([...ROWS.slice(24)]);
  });
  afterAll(async () => {
    await opened?.close();
  });

  it('gets a row back exactly as it was written', async () => {
    expect(await store.getLog('log-007')).toEqual(ROWS[7]);
    expect(JSON.stringify(await store.getLog('log-010'))).toBe(JSON.stringify(ROWS[10]));
    expect(await store.getLog('log-999')).toBeUndefined();
  });

  it('pages newest first with a cursor, over rows at equal times', async () => {
    const pages = await allPages(store, q({ limit: 7 }));
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 7, 7, 7, 7, 4]);
    expect(pages.flat().map((r) => r.id)).toEqual([...ROWS].reverse().map((r) => r.id));
    expect((await store.queryLogs(q({ cursor: 'not-a-cursor' }))).rows).toEqual([]);
  });

  it('filters on any combination of metadata fields and columns', async () => {
    const match = (f: (r: LogRow) => boolean) => [...ROWS].reverse().filter(f).map((r) => r.id);
    const ids = async (query: LogQuery) => (await allPages(store, query)).flat().map((r) => r.id);
    expect(await ids(q({ metadata: { team: 'red' }, limit: 4 }))).toEqual(match((r) => r.metadata.team === 'red'));
    expect(await ids(q({ metadata: { team: 'red', env: 'dev' } }))).toEqual(match((r) => r.metadata.team === 'red' && r.metadata.env === 'dev'));
    expect(await ids(q({ metadata: { 'user.email': 'ann@example.com', team: 'green-ops' } }))).toEqual(match((r) => r.metadata['user.email'] === 'ann@example.com' && r.metadata.team === 'green-ops'));
    expect(await ids(q({ metadata: { team: 'red' }, key_id: 'key-1', status: 200, since: at(40), until: at(300) }))).toEqual(
      match((r) => r.metadata.team === 'red' && r.key_id === 'key-1' && r.status === 200 && r.created_at >= at(40) && r.created_at < at(300)),
    );
    expect(await ids(q({ workspace: 'payments', model: 'claude-haiku-5-5', provider: 'anthropic' }))).toEqual(match((r) => r.workspace === 'payments' && r.model === 'claude-haiku-5-5'));
    expect(await ids(q({ trace_id: 't1', session_id: 's1' }))).toEqual(match((r) => r.trace_id === 't1' && r.session_id === 's1'));
    expect(await ids(q({ metadata: { team: 'nobody' } }))).toEqual([]);
  });

  it('sums by model and metadata.team per hour, with nearest-rank percentiles', async () => {
    const rows = await store.analyzeLogs({ filter: { metadata: {}, since: at(0), until: at(24 * 60) }, group_by: ['metadata.team', 'model'], bucket: 'hour' });
    expect(rows.reduce((n, r) => n + r.requests, 0)).toBe(60);
    const first = rows[0]!;
    expect(first.bucket).toBe('2026-03-02T10:00:00.000Z');
    const inGroup = ROWS.filter((r) => r.created_at.slice(0, 13) === first.bucket!.slice(0, 13) && (r.metadata.team ?? null) === first.group['metadata.team'] && r.model === first.group.model);
    expect(first.requests).toBe(inGroup.length);
    expect(first.input_tokens).toBe(inGroup.reduce((n, r) => n + r.input_tokens, 0));
    const lat = inGroup.map((r) => r.latency_ms);
    expect(first.latency_ms).toEqual({ p50: nearestRank(lat, 50), p95: nearestRank(lat, 95), p99: nearestRank(lat, 99) });
    // Buckets ascend; within one, the larger groups come first.
    for (let i = 1; i < rows.length; i++) {
      const [a, b] = [rows[i - 1]!, rows[i]!];
      expect(a.bucket! < b.bucket! || (a.bucket === b.bucket && a.requests >= b.requests)).toBe(true);
    }
  });

  it('counts errors and unpriced rows apart, and leaves percentiles null with no values', async () => {
    const [all] = await store.analyzeLogs({ filter: { metadata: {}, since: at(0), until: at(24 * 60) }, group_by: [], bucket: 'none' });
    expect(all).toMatchObject({ bucket: null, group: {}, requests: 60, errors: ROWS.filter((r) => r.status >= 400).length, unpriced_requests: ROWS.filter((r) => r.cost_usd === null).length });
    expect(all!.cost_usd).toBeCloseTo(ROWS.reduce((n, r) => n + (r.cost_usd ?? 0), 0), 12);
    const none = await store.analyzeLogs({ filter: { metadata: {}, since: at(0), until: at(24 * 60), key_id: 'key-0' }, group_by: ['status'], bucket: 'day' });
    expect(none.map((r) => r.group.status)).toEqual([200, 500, 429]);
    expect(none[0]!.bucket).toBe('2026-03-02T00:00:00.000Z');
    const noTtft = await store.analyzeLogs({ filter: { metadata: {}, since: at(0), until: at(24 * 60), key_id: 'key-0', trace_id: 't0' }, group_by: ['model'], bucket: 'none' });
    const sixes = ROWS.filter((r) => r.key_id === 'key-0' && r.trace_id === 't0');
    expect(noTtft.reduce((n, r) => n + r.requests, 0)).toBe(sixes.length);
  });

  it('sums usage per model in order of first use', async () => {
    const byModel = await store.usageByModel({ metadata: { env: 'prod' } });
    expect(byModel.map((m) => m.model)).toEqual(['claude-haiku-5-5', null]);
    const haiku = ROWS.filter((r) => r.metadata.env === 'prod' && r.model === 'claude-haiku-5-5');
    expect(byModel[0]).toMatchObject({ requests: haiku.length, first_at: haiku[0]!.created_at, last_at: haiku.at(-1)!.created_at, output_tokens: haiku.reduce((n, r) => n + r.output_tokens, 0) });
  });

  it('stores bodies by content, reads them back, and prunes what no log needs', async () => {
    const entry = (id: string, turns: number, createdAt: string) => {
      const req = request(turns);
      const res = Buffer.from(`event: message_stop\ndata: {"turn":${turns}}\n\n`);
      return { log_id: id, created_at: createdAt, summary: summarize(req, res.length), full: { request: req, response: res } };
    };
    await store.insertBodies([entry('b-1', 3, at(0)), entry('b-2', 5, at(10)), { log_id: 'b-meta', created_at: at(10), summary: summarize(request(1), 9) }]);
    const before = await store.bodyBytes();
    await store.insertBodies([entry('b-3', 6, at(20))]);
    // Five of six turns, the system block and the tool were stored already: the third body adds little.
    expect((await store.bodyBytes()) - before).toBeLessThan(before / 2);
    const b2 = await store.getBodies('b-2');
    expect(b2).toEqual({ summary: summarize(request(5), 38), request: JSON.parse(request(5).toString()), response: 'event: message_stop\ndata: {"turn":5}\n\n' });
    expect(await store.getBodies('b-meta')).toEqual({ summary: summarize(request(1), 9) });
    expect(await store.getBodies('b-none')).toBeUndefined();
    const pruned = await store.pruneLogs(at(15));
    // Logs before minute 15 (rows 0..2), bodies b-1, b-2, b-meta, and b-2's response (b-1's as well).
    expect(pruned).toEqual({ logs: 3, bodies: 3, blobs: 2 });
    expect((await store.getBodies('b-3'))?.request).toEqual(JSON.parse(request(6).toString()));
    expect(await store.getLog('log-002')).toBeUndefined();
    expect(await store.pruneLogs(at(15))).toEqual({ logs: 0, bodies: 0, blobs: 0 });
  });
});

describe('SQLite and PostgreSQL give the same answers', () => {
  const stores = {} as Record<StoreKind, OpenedStore>;
  beforeAll(async () => {
    for (const kind of STORE_KINDS) {
      stores[kind] = await openStore(kind);
      for (let i = 0; i < ROWS.length; i += 16) await stores[kind].store.insertLogs(ROWS.slice(i, i + 16));
    }
  });
  afterAll(async () => {
    for (const s of Object.values(stores)) await s.close();
  });

  const range = { metadata: {}, since: at(-60), until: at(24 * 60) };
  const queries: Array<[string, AnalyticsQuery]> = [
    ['team × model per hour', { filter: range, group_by: ['metadata.team', 'model'], bucket: 'hour' }],
    ['user.email per day', { filter: range, group_by: ['metadata.user.email'], bucket: 'day' }],
    ['key, workspace, status', { filter: { ...range, metadata: { env: 'prod' } }, group_by: ['key_id', 'workspace', 'status'], bucket: 'none' }],
    ['provider per hour for a trace', { filter: { ...range, trace_id: 't2' }, group_by: ['provider'], bucket: 'hour' }],
    ['nothing matches', { filter: { ...range, model: 'none' }, group_by: ['model'], bucket: 'hour' }],
  ];
  // Floating-point sums may differ in the last bits (SQLite sums with compensation); all else is exact.
  const rounded = <T>(v: T): T => JSON.parse(JSON.stringify(v, (_, x: unknown) => (typeof x === 'number' && !Number.isInteger(x) ? Number(x.toPrecision(12)) : x))) as T;

  it.each(queries)('analytics: %s', async (_, query) => {
    const [a, b] = await Promise.all(STORE_KINDS.map((k) => stores[k].store.analyzeLogs(query)));
    expect(rounded(b)).toEqual(rounded(a));
    expect(a!.length).toBe(query.filter.model === 'none' ? 0 : a!.length);
  });

  it('usage by model and log pages', async () => {
    const filters: LogFilter[] = [{ metadata: {} }, { metadata: { team: 'blue' } }, { metadata: {}, workspace: 'default', since: at(100) }];
    for (const f of filters) {
      const [a, b] = await Promise.all(STORE_KINDS.map((k) => stores[k].store.usageByModel(f)));
      expect(rounded(b)).toEqual(rounded(a));
      const [pa, pb] = await Promise.all(STORE_KINDS.map((k) => allPages(stores[k].store, { ...f, limit: 9 })));
      expect(pb).toEqual(pa);
    }
  });
});
