// The Redis limiter's and ledger's scripts against a real redis-server, driven from three separate
// connections as three gateway instances would: check-and-charge is one atomic step for all.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Logger } from '../../gateway/src/governance/alerts.js';
import type { Meter } from '../../gateway/src/governance/budgets.js';
import { RateLimiter, type Lease } from '../../gateway/src/governance/rate-limit.js';
import { RedisConnection } from '../../gateway/src/scale/redis-client.js';
import { RedisBudgetLedger } from '../../gateway/src/scale/redis-ledger.js';
import { RedisRateLimiter } from '../../gateway/src/scale/redis-limiter.js';
import { SqliteStore } from '../../gateway/src/store/sqlite.js';
import { GatewayError } from '../../gateway/src/wire/errors.js';
import { startRedis, type TestRedis } from '../helpers/redis.js';

let redis: TestRedis;
let dir: string;
let store: SqliteStore;
const warnings: string[] = [];
const log: Logger = { warn: (_o, msg) => warnings.push(msg), info: () => undefined };
const conns: RedisConnection[] = [];

/** A connection of its own, as another gateway instance would have. */
function instance(prefix: string): RedisConnection {
  const c = new RedisConnection(redis.url, prefix, log);
  conns.push(c);
  return c;
}

beforeAll(async () => {
  redis = await startRedis();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-scale-'));
  store = new SqliteStore(dir);
});
afterAll(async () => {
  for (const c of conns) await c.close();
  await store?.close();
  await redis?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Settles a call (sync or async, throwing or not) to ok/error. */
const outcome = <T>(call: () => T | Promise<T>) =>
  Promise.resolve()
    .then(call)
    .then(
    (v) => ({ ok: true as const, v }),
    (e: unknown) => ({ ok: false as const, e: e as GatewayError }),
  );

describe('rate limits across instances', () => {
  it('200 concurrent requests from 3 connections against 100 rpm: exactly 100 admitted', async () => {
    const limiters = [1, 2, 3].map(() => new RedisRateLimiter(instance('t1:'), 'closed', log));
    const spec = [{ scope: 'key:k1', label: 'key "k1"', rpm: 100 }];
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => outcome(() => limiters[i % 3]!.acquire(spec, 0))));
    expect(results.filter((r) => r.ok)).toHaveLength(100);
    const refused = results.filter((r) => !r.ok);
    expect(refused).toHaveLength(100);
    for (const r of refused) {
      expect(r.e).toBeInstanceOf(GatewayError);
      expect(r.e.code).toBe('rate_limited');
      expect(Number(r.e.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    }
    expect(refused[0]!.e.message).toMatch(/^The key "k1" is limited to 100 requests per minute; retry in \d+ s\.$/);
  });

  it('sends the same headers and refusals as the in-memory limiter', async () => {
    const mem = new RateLimiter();
    const red = new RedisRateLimiter(instance('t2:'), 'closed', log);
    const spec = [
      { scope: 'key:a', label: 'key "a"', rpm: 10, tpm: 100 },
      { scope: 'ws:w', label: 'workspace "w"', rpm: 5 },
    ];
    const m = mem.acquire(spec, 600);
    const r = (await red.acquire(spec, 600)) as Lease;
    const strip = (h: Record<string, string>) => Object.fromEntries(Object.entries(h).filter(([k]) => !k.endsWith('-reset')));
    expect(strip(r.headers)).toEqual(strip(m.headers));
    expect(r.headers['anthropic-ratelimit-requests-limit']).toBe('5');
    const mErr = await outcome(() => mem.acquire(spec, 10));
    const rErr = await outcome(() => red.acquire(spec, 10));
    expect(rErr.ok || mErr.ok).toBe(false);
    if (!rErr.ok && !mErr.ok) expect(rErr.e.message.replace(/\d+ s\./, 'N s.')).toBe(mErr.e.message.replace(/\d+ s\./, 'N s.'));
  });

  it('holds concurrency slots until released, across connections', async () => {
    const a = new RedisRateLimiter(instance('t3:'), 'closed', log);
    const b = new RedisRateLimiter(instance('t3:'), 'closed', log);
    const spec = [{ scope: 'user:w:ann', label: 'user "ann"', max_concurrent: 5 }];
    const results = await Promise.all(Array.from({ length: 40 }, (_, i) => outcome(() => (i % 2 ? a : b).acquire(spec, 0))));
    const held = results.filter((r) => r.ok);
    expect(held).toHaveLength(5);
    expect((await outcome(() => a.acquire(spec, 0))).ok).toBe(false);
    if (held[0]?.ok) held[0].v.release();
    await new Promise((r) => setTimeout(r, 50));
    expect((await outcome(() => b.acquire(spec, 0))).ok).toBe(true);
  });
});

const meter = (over: Partial<Meter> = {}): Meter => {
  const scope = over.scope ?? 'key:b1';
  return { scope, label: `key "${scope.slice(4)}"`, unit: 'tokens', limit: 995, period: 'day', tz: 'UTC', thresholds: [50, 100], ...over };
};

describe('budgets across instances', () => {
  it('200 concurrent reservations from 3 connections: 99 full grants and one partial, the rest refused', async () => {
    const ledgers = [1, 2, 3].map(() => new RedisBudgetLedger(instance('b1:'), store, () => undefined, log));
    const m = meter();
    const results = await Promise.all(Array.from({ length: 200 }, (_, i) => outcome(() => ledgers[i % 3]!.reserve([m], { usd: 0, tokens: 10 }))));
    expect(results.filter((r) => r.ok)).toHaveLength(100);
    const refused = results.filter((r) => !r.ok);
    expect(refused[0]!.e.code).toBe('budget_exceeded');
    expect(refused[0]!.e.message).toMatch(/^Budget exhausted: key "b1" has used 995 tokens of its 995 tokens daily budget\. It resets at/);
    expect(await ledgers[0]!.state(m)).toMatchObject({ spent: 0, reserved: 995 });
    // Settling replaces each hold with what was used.
    await Promise.all(results.map((r) => (r.ok ? r.v.settle({ usd: 0, tokens: 5 }) : undefined)));
    expect(await ledgers[1]!.state(m)).toMatchObject({ spent: 500, reserved: 0 });
  });

  it('a threshold crossed by concurrent settlements on 3 connections fires exactly once', async () => {
    const fired: number[] = [];
    const ledgers = [1, 2, 3].map(() => new RedisBudgetLedger(instance('b2:'), store, (_m, _s, t) => fired.push(t), log));
    const m = meter({ scope: 'key:b2', limit: 1000 });
    const held = await Promise.all(Array.from({ length: 30 }, (_, i) => ledgers[i % 3]!.reserve([m], { usd: 0, tokens: 20 })));
    await Promise.all(held.map((r) => r.settle({ usd: 0, tokens: 20 })));
    expect(fired).toEqual([50]);
  });

  it('extends a stream chunk by chunk and refuses what is not left', async () => {
    const ledger = new RedisBudgetLedger(instance('b3:'), store, () => undefined, log);
    const m = meter({ scope: 'key:b3', limit: 100 });
    const r = await ledger.reserve([m], { usd: 0, tokens: 40 });
    expect(r.covers({ usd: 0, tokens: 40 })).toBe(true);
    expect(await r.extend({ usd: 0, tokens: 60 }, { usd: 0, tokens: 20 })).toBe(true);
    expect(await ledger.state(m)).toMatchObject({ reserved: 80 });
    expect(await r.extend({ usd: 0, tokens: 110 }, { usd: 0, tokens: 20 })).toBe(false);
    expect(r.exhausted()).toMatch(/^Budget exhausted: key "b3" has used 100 tokens of its 100 tokens/);
    await r.settle({ usd: 0, tokens: 110 });
    expect(await ledger.state(m)).toMatchObject({ spent: 110, reserved: 0 });
  });

  it('seeds a counter Redis does not have from the store, once', async () => {
    const m = meter({ scope: 'key:seeded', limit: 1000 });
    const ledger = new RedisBudgetLedger(instance('b4:'), store, () => undefined, log);
    const period = (await ledger.state({ ...m, scope: 'key:other' })).window.key;
    await store.addSpend([{ scope: 'key:seeded', unit: 'tokens', period, amount: 700 }]);
    const fresh = new RedisBudgetLedger(instance('b5:'), store, () => undefined, log);
    expect(await fresh.state(m)).toMatchObject({ spent: 700, reserved: 0 });
    const r = await fresh.reserve([m], { usd: 0, tokens: 500 });
    expect(r.covers({ usd: 0, tokens: 301 })).toBe(false);
    expect(r.covers({ usd: 0, tokens: 300 })).toBe(true);
  });
});

describe('what a dead instance held', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('a concurrency slot lapses when its instance stops renewing it, and not while it renews', async () => {
    const timing = { leaseTtlMs: 400, renewEveryMs: 100 };
    const live = new RedisRateLimiter(instance('d1:'), 'closed', log, timing);
    const dying = new RedisRateLimiter(instance('d1:'), 'closed', log, timing);
    const other = new RedisRateLimiter(instance('d1:'), 'closed', log, timing);
    const a = [{ scope: 'key:live', label: 'key "live"', max_concurrent: 1 }];
    const b = [{ scope: 'key:dying', label: 'key "dying"', max_concurrent: 1 }];
    expect((await outcome(() => live.acquire(a, 0))).ok).toBe(true);
    expect((await outcome(() => dying.acquire(b, 0))).ok).toBe(true);
    dying.close(); // as if the process died: no release, no renewal
    await sleep(700);
    expect((await outcome(() => other.acquire(a, 0))).ok).toBe(false);
    expect((await outcome(() => other.acquire(b, 0))).ok).toBe(true);
    live.close();
  });

  it('a reservation lapses when its instance stops renewing it, and its hold returns to the budget', async () => {
    const timing = { ttlMs: 400, renewEveryMs: 100 };
    const m = meter({ scope: 'key:held', limit: 100 });
    const dying = new RedisBudgetLedger(instance('d2:'), store, () => undefined, log, undefined, timing);
    const live = new RedisBudgetLedger(instance('d2:'), store, () => undefined, log, undefined, timing);
    await live.reserve([m], { usd: 0, tokens: 30 });
    await dying.reserve([m], { usd: 0, tokens: 50 });
    expect(await live.state(m)).toMatchObject({ reserved: 80 });
    await dying.close();
    await sleep(700);
    expect(await live.state(m)).toMatchObject({ spent: 0, reserved: 30 });
  });
});

describe('when Redis is down', () => {
  it('budgets refuse with a 503 naming Redis; rate limits follow on_failure; both recover by themselves', async () => {
    const conn = instance('f1:');
    const closed = new RedisRateLimiter(conn, 'closed', log);
    const open = new RedisRateLimiter(conn, 'open', log);
    const ledger = new RedisBudgetLedger(conn, store, () => undefined, log);
    const spec = [{ scope: 'key:f', label: 'key "f"', rpm: 100 }];
    const m = meter({ scope: 'key:f', limit: 1000 });
    expect((await outcome(() => closed.acquire(spec, 0))).ok).toBe(true);
    await redis.stop();
    const budget = await outcome(() => ledger.reserve([m], { usd: 0, tokens: 1 }));
    expect(budget.ok).toBe(false);
    if (!budget.ok) {
      expect(budget.e).toMatchObject({ status: 503, type: 'overloaded_error', code: 'redis_unavailable' });
      expect(budget.e.message).toContain(`The gateway cannot reach its Redis at 127.0.0.1:${redis.port} to check budgets; requests are refused until it is back`);
    }
    const limited = await outcome(() => closed.acquire(spec, 0));
    expect(limited.ok ? undefined : limited.e.message).toMatch(/to check rate limits/);
    warnings.length = 0;
    expect((await outcome(() => open.acquire(spec, 0))).ok).toBe(true);
    expect((await outcome(() => open.acquire(spec, 0))).ok).toBe(true);
    expect(warnings.filter((w) => w.includes('rate limits are not enforced'))).toHaveLength(1);
    await redis.restart();
    await expect.poll(async () => (await outcome(() => ledger.reserve([m], { usd: 0, tokens: 1 }))).ok, { timeout: 5_000, interval: 100 }).toBe(true);
    expect((await outcome(() => closed.acquire(spec, 0))).ok).toBe(true);
  });
});
