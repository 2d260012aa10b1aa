import { describe, expect, it } from 'vitest';
import { hashSecret, newKeySecret, parseDuration, visiblePrefix } from '../../gateway/src/governance/keys.js';
import { findModel, modelInfos, pageModels } from '../../gateway/src/governance/models-list.js';
import { forwardableRequestHeaders, relayableResponseHeaders } from '../../gateway/src/proxy/headers.js';

describe('models list paging (Anthropic semantics)', () => {
  const all = modelInfos(['claude-sonnet-4-5-20250929', 'claude-opus-5-5', 'claude-haiku-5-5', 'claude-opus-5', 'my-custom-model']);

  it('orders newest first; unknown ids still list', () => {
    expect(all.map((m) => m.id)).toEqual(['claude-opus-5-5', 'claude-haiku-5-5', 'claude-opus-5', 'claude-sonnet-4-5-20250929', 'my-custom-model']);
    expect(all.at(-1)).toMatchObject({ display_name: 'my-custom-model', max_tokens: null });
  });

  it('pages forward with after_id and back with before_id', () => {
    const p1 = pageModels(all, { limit: '2' });
    expect(p1).toMatchObject({ has_more: true, first_id: 'claude-opus-5-5', last_id: 'claude-haiku-5-5' });
    const p2 = pageModels(all, { limit: '2', after_id: p1.last_id! });
    expect(p2.data.map((m) => m.id)).toEqual(['claude-opus-5', 'claude-sonnet-4-5-20250929']);
    const p3 = pageModels(all, { limit: '2', after_id: p2.last_id! });
    expect(p3).toMatchObject({ has_more: false, first_id: 'my-custom-model', last_id: 'my-custom-model' });
    const back = pageModels(all, { limit: '2', before_id: p3.first_id! });
    expect(back.data.map((m) => m.id)).toEqual(['claude-opus-5', 'claude-sonnet-4-5-20250929']);
    expect(back.has_more).toBe(true);
  });

  it('an empty list has null ids', () => {
    expect(pageModels([], {})).toEqual({ data: [], has_more: false, first_id: null, last_id: null });
  });

  it('resolves undated aliases', () => {
    expect(findModel(all, 'claude-sonnet-4-5').id).toBe('claude-sonnet-4-5-20250929');
    expect(() => findModel(all, 'nope')).toThrow(/nope is not available/);
  });
});

describe('keys', () => {
  it('are long, random, recognisable by prefix, and hashed deterministically', () => {
    const a = newKeySecret();
    const b = newKeySecret();
    expect(a).toMatch(/^ghk_[0-9A-Za-z]{43}$/);
    expect(a).not.toBe(b);
    expect(visiblePrefix(a)).toBe(a.slice(0, 10));
    expect(hashSecret(a)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashSecret(a)).toBe(hashSecret(a));
  });

  it('parse durations', () => {
    expect(parseDuration('30d')).toBe(30 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('0s')).toBe(0);
    expect(parseDuration('soon')).toBeUndefined();
  });
});

describe('header hygiene', () => {
  it('forwards every end-to-end header but credentials, x-portkey-* and hop-by-hop ones', () => {
    const out = forwardableRequestHeaders({
      authorization: 'Bearer k',
      'x-api-key': 'k',
      'x-portkey-metadata': '{}',
      connection: 'keep-alive, x-drop-me',
      'x-drop-me': '1',
      'transfer-encoding': 'chunked',
      host: 'gw',
      'content-length': '10',
      'anthropic-beta': 'a,b',
      'x-claude-code-session-id': 's',
      'x-anything-new': 'v',
    });
    expect(out).toEqual({ 'anthropic-beta': 'a,b', 'x-claude-code-session-id': 's', 'x-anything-new': 'v' });
  });

  it('relays response headers but hop-by-hop ones', () => {
    expect(relayableResponseHeaders({ 'request-id': 'r', 'transfer-encoding': 'chunked', connection: 'close', 'retry-after': '3' })).toEqual({ 'request-id': 'r', 'retry-after': '3' });
  });
});
