// Budget periods on a zone's calendar, and the ledger's reserve / extend / settle rules, on a real SQLite store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BudgetLedger, type Meter } from '../../gateway/src/governance/budgets.js';
import { periodWindow } from '../../gateway/src/governance/periods.js';
import { SqliteStore } from '../../gateway/src/store/sqlite.js';
import { GatewayError } from '../../gateway/src/wire/errors.js';

const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

describe('budget periods', () => {
  it('a day starts at local midnight in the configured zone', () => {
    const w = periodWindow('day', 'Europe/Berlin', at('2026-11-22T22:30:00Z')); // 23:30 in Berlin
    expect(w.key).toBe('day:2026-11-22');
    expect(iso(w.start)).toBe('2026-11-21T23:00:00.000Z');
    expect(iso(w.end)).toBe('2026-11-22T23:00:00.000Z');
    // Half an hour later it is the 23rd in Berlin, still the 22nd in UTC.
    expect(periodWindow('day', 'Europe/Berlin', at('2026-11-22T23:30:00Z')).key).toBe('day:2026-11-23');
    expect(periodWindow('day', 'UTC', at('2026-11-22T23:30:00Z')).key).toBe('day:2026-11-22');
  });

  it('the day DST ends lasts 25 hours, the day it starts 23', () => {
    const autumn = periodWindow('day', 'Europe/Berlin', at('2026-10-25T12:00:00Z'));
    expect((autumn.end! - autumn.start) / 3_600_000).toBe(25);
    const spring = periodWindow('day', 'America/New_York', at('2026-03-08T12:00:00Z'));
    expect((spring.end! - spring.start) / 3_600_000).toBe(23);
    expect(iso(spring.start)).toBe('2026-03-08T05:00:00.000Z');
  });

  it('weeks start on Monday, months on the 1st, across a year end', () => {
    const w = periodWindow('week', 'UTC', at('2026-11-22T10:00:00Z')); // a Sunday
    expect(w.key).toBe('week:2026-11-16');
    expect(iso(w.end)).toBe('2026-11-23T00:00:00.000Z');
    const m = periodWindow('month', 'Asia/Tokyo', at('2026-12-31T16:00:00Z')); // 1 Jan 01:00 in Tokyo
    expect(m.key).toBe('month:2027-01');
    expect(iso(m.start)).toBe('2026-12-31T15:00:00.000Z');
    expect(iso(m.end)).toBe('2027-01-31T15:00:00.000Z');
    expect(periodWindow('lifetime', 'UTC', Date.now())).toEqual({ key: 'lifetime', start: 0, end: null });
  });
});

describe('budget ledger', () => {
  let dir: string;
  let store: SqliteStore;
  let crossings: Array<[string, number]>;
  let ledger: BudgetLedger;
  const meter = (over: Partial<Meter> = {}): Meter => ({ scope: 'key:k1', label: 'key "ci"', unit: 'usd', limit: 1, period: 'day', tz: 'UTC', thresholds: [50, 80, 100], ...over });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-ledger-'));
    store = new SqliteStore(dir);
    crossings = [];
    ledger = new BudgetLedger(store, (m, _s, t) => crossings.push([m.scope, t]));
  });
  afterEach(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('reserves what fits, grants the rest partially once, then refuses with a 429 naming the budget', async () => {
    const m = meter();
    const now = at('2026-11-22T12:00:00Z');
    const a = await ledger.reserve([m], { usd: 0.6, tokens: 0 }, now);
    const b = await ledger.reserve([m], { usd: 0.6, tokens: 0 }, now); // only 0.4 left: granted partially
    expect(b.covers({ usd: 0.4, tokens: 0 })).toBe(true);
    expect(b.covers({ usd: 0.41, tokens: 0 })).toBe(false);
    const refused = await ledger.reserve([m], { usd: 0.01, tokens: 0 }, now).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(GatewayError);
    const e = refused as GatewayError;
    expect([e.status, e.type, e.code, e.retryable]).toEqual([429, 'rate_limit_error', 'budget_exceeded', false]);
    expect(e.message).toMatch(/^Budget exhausted: key "ci" has used \$1\.00? of its \$1\.00? daily budget\. It resets at 2026-11-23T00:00:00\.000Z \(UTC, in 12 h\)/);
    expect(e.headers['retry-after']).toBe(String(12 * 3600));
    // Settling for less gives the difference back.
    await a.settle({ usd: 0.25, tokens: 0 });
    await b.settle({ usd: 0.3, tokens: 0 });
    expect((await ledger.state(m, now)).spent).toBeCloseTo(0.55);
    expect((await ledger.state(m, now)).reserved).toBeCloseTo(0);
    expect(crossings).toEqual([['key:k1', 50]]);
  });

  it('a stream extends while the budget lasts and learns when it has run out', async () => {
    const m = meter({ limit: 0.01 });
    const r = await ledger.reserve([m], { usd: 0.004, tokens: 0 });
    expect(await r.extend({ usd: 0.005, tokens: 0 }, { usd: 0.004, tokens: 0 })).toBe(true);
    expect(r.covers({ usd: 0.009, tokens: 0 })).toBe(true);
    expect(await r.extend({ usd: 0.011, tokens: 0 }, { usd: 0.004, tokens: 0 })).toBe(false);
    expect(r.exhausted()).toMatch(/key "ci" has used \$0\.01 of its \$0\.01 daily budget/);
    await r.settle({ usd: 0.0105, tokens: 0 });
    expect(crossings.map(([, t]) => t)).toEqual([50, 80, 100]);
  });

  it('spend survives a restart, per period, and a lifetime budget says it does not reset', async () => {
    const m = meter({ period: 'lifetime', unit: 'tokens', limit: 1000 });
    const r = await ledger.reserve([m], { usd: 0, tokens: 600 });
    await r.settle({ usd: 0, tokens: 1000 });
    const again = new BudgetLedger(store, () => undefined);
    expect((await again.state(m)).spent).toBe(1000);
    const e = (await again.reserve([m], { usd: 0, tokens: 1 }).catch((x: unknown) => x)) as GatewayError;
    expect(e.message).toMatch(/has used 1,000 tokens of its 1,000 tokens lifetime budget\. It does not reset/);
    expect(e.headers['retry-after']).toBeUndefined();
    // The key's daily budget for another day starts from nothing.
    const daily = meter();
    const today = await ledger.reserve([daily], { usd: 0.5, tokens: 0 }, at('2026-11-22T12:00:00Z'));
    await today.settle({ usd: 0.9, tokens: 0 });
    expect((await ledger.state(daily, at('2026-11-23T12:00:00Z'))).spent).toBe(0);
    expect(await store.listSpend({ scopePrefix: 'key:' })).toEqual(
      expect.arrayContaining([{ scope: 'key:k1', unit: 'usd', period: 'day:2026-11-22', amount: 0.9 }, { scope: 'key:k1', unit: 'tokens', period: 'lifetime', amount: 1000 }]),
    );
  });

  it('checks every budget before reserving on any, so a refused request holds nothing', async () => {
    const wide = meter({ scope: 'ws:eng', limit: 100 });
    const full = meter({ limit: 0.1 });
    const r = await ledger.reserve([full], { usd: 0.1, tokens: 0 });
    await expect(ledger.reserve([wide, full], { usd: 0.05, tokens: 0 })).rejects.toThrow(/key "ci"/);
    expect((await ledger.state(wide)).reserved).toBe(0);
    await r.settle({ usd: 0, tokens: 0 });
  });
});
