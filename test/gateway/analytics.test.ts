// Usage analytics over the request logs: exact sums per group (metadata and model together),
// UTC hour buckets, nearest-rank latency percentiles, a trace's and a session's rows with their
// totals, a developer's own usage, and clear 400s for a query the gateway cannot answer.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UsageTotals } from '../../gateway/src/api/analytics.js';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import type { AnalyticsRow, ModelUsage } from '../../gateway/src/store/types.js';
import { AnthropicEmulator, type Script } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let a: { id: string; key: string };
let b: { id: string; key: string };
const SONNET = 'claude-sonnet-5-5';
const HAIKU = 'claude-haiku-5-5';
const OPUS = 'claude-opus-5-5';
const UNPRICED = 'acme-unpriced-1';

interface Analytics {
  data: AnalyticsRow[];
  since: string;
  until: string;
  bucket: string;
  group_by: string[];
}
interface Group {
  id: string;
  totals: UsageTotals;
  data: LogRow[];
  truncated: boolean;
}
interface Usage {
  key_id: string;
  since: string;
  until: string;
  totals: UsageTotals;
  by_model: ModelUsage[];
  session: { id: string; totals: UsageTotals; by_model: ModelUsage[] } | null;
}
interface ErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

async function send(key: string, model: string, headers: Record<string, string>, script: Script): Promise<number> {
  emu.enqueue(script);
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, ...headers },
    body: JSON.stringify({ model, max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }),
  });
  await res.text();
  return res.status;
}

const reply = (usage: { input_tokens: number; output_tokens: number; cache_read_input_tokens?: number; cache_creation_input_tokens?: number }): Script => ({
  kind: 'message',
  content: [{ type: 'text', text: 'x' }],
  usage,
});
const meta = (m: Record<string, string>) => ({ 'x-portkey-metadata': JSON.stringify(m) });
const session = (id: string) => ({ 'x-claude-code-session-id': id });
const trace = (id: string) => ({ 'x-portkey-trace-id': id });

// Per million tokens (model-catalog.ts). Sonnet 5.5: $2 in, $2.50 5-minute write, $0.10 read, $10 out.
// Haiku 5.5: $0.10 in, $0.50 out. Opus 5.5: $4 in, $20 out.
const COST = {
  r1: (100 * 2 + 50 * 0.1 + 20 * 10) / 1e6,
  r2: (200 * 2 + 1000 * 2.5 + 40 * 10) / 1e6,
  r3: (1000 * 0.1 + 100 * 0.5) / 1e6,
  r4: (10 * 0.1 + 5 * 0.5) / 1e6,
  r7: (300 * 4 + 30 * 20) / 1e6,
};

const analytics = (query: string) => gw.admin<Analytics>('GET', `/api/admin/analytics${query}`);
const me = async (key: string, query = '') => {
  const res = await fetch(`${gw.url}/api/me/usage${query}`, { headers: { authorization: `Bearer ${key}` } });
  return { status: res.status, body: (await res.json()) as Usage };
};
const rowsOf = async (keyId: string) => (await gw.admin<{ data: LogRow[] }>('GET', `/api/admin/logs?key_id=${keyId}&limit=500`)).body.data;
/** Nearest rank: the value at rank ceil(p/100 × n) of the sorted values. */
const nearestRank = (values: number[], p: number) => [...values].sort((x, y) => x - y)[Math.ceil((p / 100) * values.length) - 1] ?? null;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url), { TEST_ANTHROPIC_KEY: emu.apiKey });
  a = await gw.createKey({ name: 'analytics-a' });
  b = await gw.createKey({ name: 'analytics-b' });
  const sent = [
    await send(a.key, SONNET, { ...meta({ team: 'red' }), ...session('s1'), ...trace('t1') }, reply({ input_tokens: 100, output_tokens: 20, cache_read_input_tokens: 50 })),
    await send(a.key, SONNET, { ...meta({ team: 'red' }), ...session('s1'), ...trace('t1') }, reply({ input_tokens: 200, output_tokens: 40, cache_creation_input_tokens: 1000 })),
    await send(a.key, HAIKU, { ...meta({ team: 'blue' }), ...session('s1'), ...trace('t2') }, reply({ input_tokens: 1000, output_tokens: 100 })),
    await send(a.key, HAIKU, session('s2'), reply({ input_tokens: 10, output_tokens: 5 })),
    await send(a.key, SONNET, { ...meta({ team: 'red' }), ...session('s2') }, { kind: 'status', status: 500 }),
    await send(a.key, UNPRICED, meta({ team: 'red' }), reply({ input_tokens: 10, output_tokens: 10 })),
    await send(b.key, OPUS, { ...meta({ team: 'red' }), ...session('s3'), ...trace('t3') }, reply({ input_tokens: 300, output_tokens: 30 })),
  ];
  expect(sent).toEqual([200, 200, 200, 200, 500, 200, 200]);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

describe('GET /api/admin/analytics', () => {
  it('sums each metadata.team × model group exactly, with missing metadata under null', async () => {
    const { status, body } = await analytics(`?group_by=metadata.team,model&key_id=${a.id}`);
    expect(status).toBe(200);
    expect(body).toMatchObject({ bucket: 'none', group_by: ['metadata.team', 'model'] });
    expect(Date.parse(body.until) - Date.parse(body.since)).toBe(86_400_000);
    const of = (team: string | null, model: string) => body.data.find((r) => r.group['metadata.team'] === team && r.group.model === model);
    expect(body.data).toHaveLength(4);
    expect(of('red', SONNET)).toMatchObject({
      bucket: null,
      requests: 3,
      errors: 1,
      unpriced_requests: 0,
      input_tokens: 300,
      output_tokens: 60,
      cache_read_input_tokens: 50,
      cache_creation_input_tokens: 1000,
    });
    expect(of('red', SONNET)!.cost_usd).toBeCloseTo(COST.r1 + COST.r2, 12);
    expect(of('blue', HAIKU)).toMatchObject({ requests: 1, errors: 0, input_tokens: 1000, output_tokens: 100, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 });
    expect(of('blue', HAIKU)!.cost_usd).toBeCloseTo(COST.r3, 12);
    expect(of(null, HAIKU)).toMatchObject({ requests: 1, input_tokens: 10, output_tokens: 5 });
    expect(of(null, HAIKU)!.cost_usd).toBeCloseTo(COST.r4, 12);
    // An unpriced model is counted apart, never as $0 that looks like a price.
    expect(of('red', UNPRICED)).toMatchObject({ requests: 1, unpriced_requests: 1, cost_usd: 0, input_tokens: 10, output_tokens: 10 });
    // The biggest group first.
    expect(body.data[0]!.group).toEqual({ 'metadata.team': 'red', model: SONNET });
  });

  it('groups every key by one column, and narrows by filters', async () => {
    const byKey = (await analytics('?group_by=key_id')).body.data;
    expect(byKey.find((r) => r.group.key_id === a.id)).toMatchObject({ requests: 6, errors: 1, unpriced_requests: 1, input_tokens: 1320, output_tokens: 175 });
    expect(byKey.find((r) => r.group.key_id === b.id)).toMatchObject({ requests: 1, errors: 0, input_tokens: 300, output_tokens: 30 });
    expect(byKey.find((r) => r.group.key_id === b.id)!.cost_usd).toBeCloseTo(COST.r7, 12);

    const red = (await analytics('?group_by=status&metadata.team=red')).body.data;
    expect(red.map((r) => [r.group.status, r.requests])).toEqual([
      [200, 4],
      [500, 1],
    ]);
    const all = (await analytics(`?key_id=${a.id}&model=${HAIKU}`)).body.data;
    expect(all).toEqual([expect.objectContaining({ bucket: null, group: {}, requests: 2, input_tokens: 1010 })]);
    // A range with nothing in it has no groups.
    expect((await analytics('?since=2020-01-01T00:00:00Z&until=2020-01-02T00:00:00Z')).body.data).toEqual([]);
  });

  it('buckets by UTC hour', async () => {
    const rows = await rowsOf(a.id);
    const hours = new Map<string, number>();
    for (const r of rows) {
      const hour = `${r.created_at.slice(0, 13)}:00:00.000Z`;
      hours.set(hour, (hours.get(hour) ?? 0) + 1);
    }
    const { body } = await analytics(`?bucket=hour&key_id=${a.id}`);
    expect(body.bucket).toBe('hour');
    expect(body.data.map((r) => [r.bucket, r.requests])).toEqual([...hours].sort());
    const day = (await analytics(`?bucket=day&key_id=${a.id}`)).body.data;
    expect(day.every((r) => /^\d{4}-\d\d-\d\dT00:00:00\.000Z$/.test(r.bucket!))).toBe(true);
    expect(day.reduce((n, r) => n + r.requests, 0)).toBe(6);
  });

  it('reports nearest-rank latency and time-to-first-byte percentiles', async () => {
    const rows = (await rowsOf(a.id)).filter((r) => r.model === SONNET && r.metadata.team === 'red');
    const { body } = await analytics(`?group_by=model&key_id=${a.id}&metadata.team=red`);
    const g = body.data.find((r) => r.group.model === SONNET)!;
    const lat = rows.map((r) => r.latency_ms);
    const ttft = rows.flatMap((r) => (r.ttft_ms === null ? [] : [r.ttft_ms]));
    expect(g.latency_ms).toEqual({ p50: nearestRank(lat, 50), p95: nearestRank(lat, 95), p99: nearestRank(lat, 99) });
    expect(g.ttft_ms).toEqual({ p50: nearestRank(ttft, 50), p95: nearestRank(ttft, 95), p99: nearestRank(ttft, 99) });
    for (const p of [g.latency_ms, g.ttft_ms]) {
      expect(p.p50).toBeGreaterThan(0);
      expect(p.p50!).toBeLessThanOrEqual(p.p95!);
      expect(p.p95!).toBeLessThanOrEqual(p.p99!);
    }
  });

  it('binds metadata field names as parameters, whatever they hold', async () => {
    const field = encodeURIComponent(`metadata.team") OR 1=1 --`);
    const { status, body } = await analytics(`?group_by=${field}&key_id=${a.id}`);
    expect(status).toBe(200);
    expect(body.data).toEqual([expect.objectContaining({ group: { 'metadata.team") OR 1=1 --': null }, requests: 6 })]);
  });

  it.each([
    ['?group_by=colour', /group_by: unknown dimension "colour"/],
    ['?group_by=model,model', /"model" is named twice/],
    ['?group_by=metadata.', /metadata field name/],
    ['?group_by=model,provider,key_id,workspace,status', /at most 4/],
    ['?bucket=week', /bucket: "week" is not one of hour, day, none/],
    ['?since=yesterday', /since: "yesterday" is not a time/],
    ['?since=2026-11-22T00:00:00Z&until=2026-11-21T00:00:00Z', /must be before until/],
    ['?status=ok', /status: an HTTP status/],
    ['?limit=5', /Unknown parameter "limit"/],
  ])('refuses %s with a 400', async (query, message) => {
    const { status, body } = await gw.admin<ErrorBody>('GET', `/api/admin/analytics${query}`);
    expect(status).toBe(400);
    expect(body.type).toBe('error');
    expect(body.error.type).toBe('invalid_request_error');
    expect(body.error.message).toMatch(message);
  });
});

describe('traces and sessions', () => {
  it('lists a trace oldest first with its totals', async () => {
    const { status, body } = await gw.admin<Group>('GET', '/api/admin/traces/t1');
    expect(status).toBe(200);
    expect(body.id).toBe('t1');
    expect(body.data.map((r) => r.input_tokens)).toEqual([100, 200]);
    expect(body.truncated).toBe(false);
    expect(body.totals).toMatchObject({
      requests: 2,
      errors: 0,
      input_tokens: 300,
      output_tokens: 60,
      cache_read_input_tokens: 50,
      cache_creation_input_tokens: 1000,
      first_at: body.data[0]!.created_at,
      last_at: body.data[1]!.created_at,
      models: [SONNET],
    });
    expect(body.totals.cost_usd).toBeCloseTo(COST.r1 + COST.r2, 12);
  });

  it('lists a session with every model it used, in order of first use', async () => {
    const { body } = await gw.admin<Group>('GET', '/api/admin/sessions/s1');
    expect(body.data.map((r) => r.model)).toEqual([SONNET, SONNET, HAIKU]);
    expect(body.totals).toMatchObject({ requests: 3, input_tokens: 1300, output_tokens: 160, models: [SONNET, HAIKU], first_at: body.data[0]!.created_at, last_at: body.data[2]!.created_at });
    expect(body.totals.cost_usd).toBeCloseTo(COST.r1 + COST.r2 + COST.r3, 12);
    const s2 = (await gw.admin<Group>('GET', '/api/admin/sessions/s2')).body;
    expect(s2.totals).toMatchObject({ requests: 2, errors: 1 });
  });

  it('answers 404 for an id with no rows', async () => {
    for (const path of ['/api/admin/traces/nope', '/api/admin/sessions/nope']) {
      const { status, body } = await gw.admin<ErrorBody>('GET', path);
      expect(status).toBe(404);
      expect(body.error.type).toBe('not_found_error');
    }
  });
});

describe('GET /api/me/usage', () => {
  it("counts only the caller's key, for the current UTC day by default", async () => {
    const { status, body } = await me(a.key);
    expect(status).toBe(200);
    expect(body.key_id).toBe(a.id);
    expect(body.since).toMatch(/T00:00:00\.000Z$/);
    expect(Date.parse(body.until) - Date.parse(body.since)).toBe(86_400_000);
    expect(body.session).toBeNull();

    const since = new Date(Date.now() - 3_600_000).toISOString();
    const mine = (await me(a.key, `?since=${since}`)).body;
    expect(mine.totals).toMatchObject({ requests: 6, errors: 1, unpriced_requests: 1, input_tokens: 1320, output_tokens: 175, cache_read_input_tokens: 50, cache_creation_input_tokens: 1000 });
    expect(mine.totals.models).toEqual([SONNET, HAIKU, UNPRICED]);
    expect(mine.totals.cost_usd).toBeCloseTo(COST.r1 + COST.r2 + COST.r3 + COST.r4, 12);
    expect(mine.by_model.find((m) => m.model === HAIKU)).toMatchObject({ requests: 2, input_tokens: 1010, output_tokens: 105 });
    expect(mine.by_model.find((m) => m.model === SONNET)).toMatchObject({ requests: 3, errors: 1 });

    const theirs = (await me(b.key, `?since=${since}`)).body;
    expect(theirs.totals).toMatchObject({ requests: 1, input_tokens: 300, output_tokens: 30, models: [OPUS] });
    expect(theirs.totals.cost_usd).toBeCloseTo(COST.r7, 12);
  });

  it("adds one session's totals, only of the caller's own rows", async () => {
    const s1 = (await me(a.key, '?session_id=s1')).body.session!;
    expect(s1.id).toBe('s1');
    expect(s1.totals).toMatchObject({ requests: 3, input_tokens: 1300, models: [SONNET, HAIKU] });
    expect(s1.by_model.map((m) => [m.model, m.requests])).toEqual([
      [SONNET, 2],
      [HAIKU, 1],
    ]);
    // s3 is key b's session: key a sees nothing of it.
    expect((await me(a.key, '?session_id=s3')).body.session!.totals).toMatchObject({ requests: 0, cost_usd: 0, first_at: null, models: [] });
  });

  it('refuses unknown parameters and needs a key', async () => {
    const bad = await fetch(`${gw.url}/api/me/usage?key_id=${b.id}`, { headers: { authorization: `Bearer ${a.key}` } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as ErrorBody).error.message).toMatch(/Unknown parameter "key_id"/);
    expect((await fetch(`${gw.url}/api/me/usage`)).status).toBe(401);
  });
});
