import { describe, expect, it } from 'vitest';
import { groupBySession, matchesFilter, NO_FILTER, sessionKey, today, totalsOf, ZonedClock } from '../../webview/src/aggregate.js';
import { formatCost, formatCostTotal, modelLabel } from '../../webview/src/format.js';
import { LogModel } from '../../webview/src/model.js';
import { entry, NOW, rows, SESSION_A, SESSION_B, snapshot, TZ } from './fixtures.js';

describe('session grouping', () => {
  it('groups by session, newest group and newest row first, null as its own group', () => {
    const groups = groupBySession([...rows()].reverse());
    expect(groups.map((g) => g.key)).toEqual([sessionKey(SESSION_A), sessionKey(SESSION_B), 'none']);
    expect(groups[0]!.rows.map((r) => r.id)).toEqual(['req_a3', 'req_a2', 'req_a1']);
    expect(groups[2]!.sessionId).toBeNull();
  });

  it('totals count tokens of every kind, errors, and unpriced rows apart from cost', () => {
    const [a, b] = groupBySession(rows());
    expect(totalsOf(a!.rows)).toEqual({ requests: 3, errors: 1, tokens: 1200 + 350 + 42000 + 1800 + 800 + 120 + 30000, cost: 0.0417, unpriced: 0 });
    const tb = totalsOf(b!.rows);
    expect(tb.unpriced).toBe(1);
    expect(formatCostTotal(tb.cost, tb.unpriced)).toBe('$0.0021 + 1 unpriced');
  });
});

describe('today by hour', () => {
  it('buckets by the hour on the given clock, and leaves out other days', () => {
    const late = entry({ id: 'late', created_at: '2025-03-03T23:30:00.000Z', cost_usd: 0.5 }); // 00:30 in Berlin
    const yesterday = entry({ id: 'old', created_at: '2025-03-03T22:30:00.000Z', cost_usd: 9 }); // 23:30 on the 3rd
    const t = today([...rows(), late, yesterday], new ZonedClock(TZ), new Date(NOW));
    expect(t.day).toBe('2025-03-04');
    expect(t.hours).toHaveLength(24);
    expect(t.hours[0]!.cost).toBe(0.5);
    expect(t.hours[14]!).toMatchObject({ requests: 3 });
    expect(t.hours[14]!.cost).toBeCloseTo(0.0417);
    expect(t.hours[13]!).toMatchObject({ requests: 3, unpriced: 1 });
    expect(t.hours[23]!.requests).toBe(0);
    expect(t.totals.requests).toBe(7);
  });

  it('the same instant is another day in another zone', () => {
    const r = entry({ id: 'x', created_at: '2025-03-04T23:30:00.000Z', cost_usd: 1 });
    expect(today([r], new ZonedClock('UTC'), new Date('2025-03-04T12:00:00Z')).totals.requests).toBe(1);
    expect(today([r], new ZonedClock(TZ), new Date('2025-03-04T12:00:00Z')).totals.requests).toBe(0);
  });

  it('falls back to the local zone for an unknown zone instead of throwing', () => {
    expect(new ZonedClock('Not/AZone').place(NOW)?.day).toMatch(/^2025-03-0[45]$/);
  });
});

describe('filters', () => {
  const all = rows();
  const ids = (f: Partial<typeof NO_FILTER>) => all.filter((r) => matchesFilter(r, { ...NO_FILTER, ...f })).map((r) => r.id);

  it('searches model, session, error message and metadata values, case-insensitively', () => {
    expect(ids({ text: 'OVERLOADED' })).toEqual(['req_a2']);
    expect(ids({ text: 'gh-1234' })).toEqual(['req_a3']);
    expect(ids({ text: 'qwen' })).toEqual(['req_b1']);
    expect(ids({ text: SESSION_B.slice(0, 8) })).toEqual(['req_b2', 'req_b1']);
  });

  it('matches a model as asked or as served, a status class and a session', () => {
    expect(ids({ model: 'claude-opus-4-1' })).toEqual(['req_a2']);
    expect(ids({ model: 'claude-sonnet-4-5' })).toEqual(['req_a3', 'req_a2', 'req_a1']);
    expect(ids({ status: 'errors' })).toEqual(['req_a2']);
    expect(ids({ status: 'ok' })).not.toContain('req_a2');
    expect(ids({ session: 'none' })).toEqual(['req_n1']);
  });
});

describe('formatting and the live model', () => {
  it('never shows an unpriced request as free', () => {
    expect(formatCost(null)).toBe('unpriced');
    expect(formatCost(0.0123)).toBe('$0.0123');
    expect(modelLabel(rows()[1]!)).toBe('claude-opus-4-1 → claude-sonnet-4-5');
  });

  it('a live row goes to the top of its session, replaces its in-flight entry and moves "this session"', () => {
    const m = new LogModel();
    m.applySnapshot(snapshot({ inFlight: [{ id: 'req_b3', created_at: '2025-03-04T13:29:00.000Z', model: 'claude-haiku-4-5', stream: true, endpoint: 'messages' }] }));
    expect(m.inFlight.has('req_b3')).toBe(true);
    const change = m.upsertRow(entry({ id: 'req_b3', created_at: '2025-03-04T13:29:00.000Z', session_id: SESSION_B, cost_usd: 0.001 }));
    expect(change).toEqual({ key: sessionKey(SESSION_B), movedFrom: null, isNew: true });
    expect(m.inFlight.size).toBe(0);
    expect(m.groups.get(sessionKey(SESSION_B))![0]!.id).toBe('req_b3');
    expect(m.groupOrder()[0]).toBe(sessionKey(SESSION_B));
    expect(m.currentSession).toBe(SESSION_B);
    // An older row arriving late does not take "this session" back.
    m.upsertRow(entry({ id: 'late_a', created_at: '2025-03-04T13:00:00.000Z', session_id: SESSION_A }));
    expect(m.currentSession).toBe(SESSION_B);
    expect(m.addStart({ id: 'req_b3', created_at: NOW, model: null, stream: true, endpoint: 'messages' })).toBe(false);
  });
});
