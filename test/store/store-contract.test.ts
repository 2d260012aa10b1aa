// The Store contract, run against SQLite and PostgreSQL alike: keys and their secrets, spend and
// alerts, admin keys, and the admin API's configs, providers and policies.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Store } from '../../gateway/src/store/types.js';
import { resolveDataKey, open, seal } from '../../gateway/src/store/secret-box.js';
import { at, newKey, openStore, STORE_KINDS, type OpenedStore } from './fixtures.js';

describe.each(STORE_KINDS)('%s store', (kind) => {
  let opened: OpenedStore;
  let store: Store;
  beforeAll(async () => {
    opened = await openStore(kind);
    store = opened.store;
  });
  afterAll(async () => {
    await opened?.close();
  });

  describe('keys', () => {
    it('creates a key with its policy and finds it by the hash of its secret', async () => {
      const k = await store.createKey(newKey('k-alice', { allowed_models: ['claude-sonnet-*'], required_metadata: ['team'], rpm: 60, tpm: 100_000, budget_usd: 12.5, budget_tokens: 5_000_000_000, budget_period: 'week', allow_inline_config: true, expires_at: at(60 * 24) }), 'hash-a1', 'ghk_a1');
      expect(k).toEqual({
        id: 'k-alice', name: 'key k-alice', workspace: 'default', provider: null, config: null, metadata: { team: 'red', 'cost-center': '42' },
        created_at: at(0), expires_at: at(60 * 24), revoked_at: null, rotated_at: null, allow_inline_config: true, allowed_models: ['claude-sonnet-*'],
        required_metadata: ['team'], rpm: 60, max_concurrent: null, tpm: 100_000, budget_usd: 12.5, budget_tokens: 5_000_000_000, budget_period: 'week', prefix: 'ghk_a1',
      });
      // The same property order as SQLite's rows, so API answers are byte-identical.
      expect(Object.keys(k)).toEqual(['id', 'name', 'workspace', 'provider', 'config', 'metadata', 'created_at', 'expires_at', 'revoked_at', 'rotated_at', 'allow_inline_config', 'allowed_models', 'required_metadata', 'rpm', 'max_concurrent', 'tpm', 'budget_usd', 'budget_tokens', 'budget_period', 'prefix']);
      expect(await store.findKeyBySecretHash('hash-a1')).toEqual({ key: k, prefix: 'ghk_a1', valid_until: null });
      expect(await store.findKeyBySecretHash('nope')).toBeUndefined();
      expect(await store.getKey('missing')).toBeUndefined();
    });

    it('lists newest first (equal times in creation order), by workspace, with or without revoked keys', async () => {
      await store.createKey(newKey('k-b', { created_at: at(5) }), 'hash-b', 'ghk_b');
      await store.createKey(newKey('k-c', { created_at: at(5), workspace: 'payments' }), 'hash-c', 'ghk_c');
      await store.createKey(newKey('k-d', { created_at: at(9), workspace: 'payments' }), 'hash-d', 'ghk_d');
      expect((await store.listKeys()).map((k) => k.id)).toEqual(['k-d', 'k-b', 'k-c', 'k-alice']);
      expect((await store.listKeys({ workspace: 'payments' })).map((k) => k.id)).toEqual(['k-d', 'k-c']);
      const revoked = await store.revokeKey('k-b', at(10));
      expect(revoked?.revoked_at).toBe(at(10));
      // Revoking twice keeps the first time.
      expect((await store.revokeKey('k-b', at(11)))?.revoked_at).toBe(at(10));
      expect((await store.listKeys({ includeRevoked: false })).map((k) => k.id)).toEqual(['k-d', 'k-c', 'k-alice']);
      expect(await store.revokeKey('missing', at(10))).toBeUndefined();
    });

    it('rotates: the new secret is current, the old one valid until its grace ends', async () => {
      const r = await store.rotateKey('k-d', 'hash-d2', 'ghk_d2', at(20), at(80));
      expect(r).toMatchObject({ id: 'k-d', prefix: 'ghk_d2', rotated_at: at(20) });
      expect(await store.findKeyBySecretHash('hash-d')).toMatchObject({ prefix: 'ghk_d', valid_until: at(80) });
      expect(await store.findKeyBySecretHash('hash-d2')).toMatchObject({ prefix: 'ghk_d2', valid_until: null });
      // A second rotation shortens the first grace, never lengthens it.
      await store.rotateKey('k-d', 'hash-d3', 'ghk_d3', at(30), at(90));
      expect((await store.findKeyBySecretHash('hash-d'))?.valid_until).toBe(at(80));
      expect((await store.findKeyBySecretHash('hash-d2'))?.valid_until).toBe(at(90));
      expect((await store.getKey('k-d'))?.prefix).toBe('ghk_d3');
      expect(await store.rotateKey('missing', 'h', 'p', at(1), at(2))).toBeUndefined();
    });

    it('updates policy fields, JSON and boolean ones included, and leaves the rest', async () => {
      const u = await store.updateKey('k-c', { name: 'renamed', metadata: { team: 'blue' }, allowed_models: ['claude-haiku-*'], allow_inline_config: true, rpm: 5, budget_usd: 0.25, expires_at: null });
      expect(u).toMatchObject({ name: 'renamed', metadata: { team: 'blue' }, allowed_models: ['claude-haiku-*'], allow_inline_config: true, rpm: 5, budget_usd: 0.25, workspace: 'payments', prefix: 'ghk_c' });
      expect((await store.updateKey('k-c', { allowed_models: null, allow_inline_config: false }))).toMatchObject({ allowed_models: null, allow_inline_config: false, name: 'renamed' });
      expect(await store.updateKey('k-c', {})).toMatchObject({ name: 'renamed' });
      expect(await store.updateKey('missing', { name: 'x' })).toBeUndefined();
    });
  });

  describe('spend and alerts', () => {
    it('adds a batch (repeats of a scope included) to what is there', async () => {
      await store.addSpend([
        { scope: 'key:a', unit: 'usd', period: '2026-03', amount: 0.5 },
        { scope: 'key:a', unit: 'tokens', period: '2026-03', amount: 1000 },
        { scope: 'key:a', unit: 'usd', period: '2026-03', amount: 0.25 },
        { scope: 'workspace:default', unit: 'usd', period: '2026-03', amount: 2 },
        { scope: 'key:a_b', unit: 'usd', period: '2026-02', amount: 1 },
      ]);
      await store.addSpend([{ scope: 'key:a', unit: 'usd', period: '2026-03', amount: 1 }]);
      await store.addSpend([]);
      expect(await store.getSpend('key:a', 'usd', '2026-03')).toBe(1.75);
      expect(await store.getSpend('key:a', 'tokens', '2026-03')).toBe(1000);
      expect(await store.getSpend('key:none', 'usd', '2026-03')).toBe(0);
      expect(await store.listSpend()).toEqual([
        { scope: 'key:a', unit: 'tokens', period: '2026-03', amount: 1000 },
        { scope: 'key:a', unit: 'usd', period: '2026-03', amount: 1.75 },
        { scope: 'key:a_b', unit: 'usd', period: '2026-02', amount: 1 },
        { scope: 'workspace:default', unit: 'usd', period: '2026-03', amount: 2 },
      ]);
      // "_" in a prefix is a character, not a wildcard.
      expect((await store.listSpend({ scopePrefix: 'key:a_' })).map((r) => r.scope)).toEqual(['key:a_b']);
      expect((await store.listSpend({ scopePrefix: 'key:', period: '2026-03' })).map((r) => r.unit)).toEqual(['tokens', 'usd']);
    });

    it('adds concurrent batches without losing any', async () => {
      await Promise.all(Array.from({ length: 20 }, () => store.addSpend([{ scope: 'key:busy', unit: 'tokens', period: 'p', amount: 5 }, { scope: 'key:busy2', unit: 'tokens', period: 'p', amount: 1 }])));
      expect(await store.getSpend('key:busy', 'tokens', 'p')).toBe(100);
      expect(await store.getSpend('key:busy2', 'tokens', 'p')).toBe(20);
    });

    it('claims a threshold exactly once, even when ten calls race, on two instances', async () => {
      const twin = opened.twin();
      const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? twin : store).claimAlert('key:a', 'usd', '2026-03', 80, at(i))));
      expect(claims.filter(Boolean)).toHaveLength(1);
      expect(await twin.claimAlert('key:a', 'usd', '2026-03', 80, at(20))).toBe(false);
      expect(await store.claimAlert('key:a', 'usd', '2026-03', 100, at(20))).toBe(true);
      expect(await store.claimAlert('key:a', 'usd', '2026-04', 80, at(20))).toBe(true);
      expect(await store.claimAlert('key:a', 'tokens', '2026-03', 80, at(20))).toBe(true);
    });
  });

  describe('admin keys', () => {
    it('are found by hash, listed oldest first, revoked once', async () => {
      const a = await store.createAdminKey({ id: 'adm-1', name: 'ops', role: 'admin', prefix: 'gha_1', created_at: at(3) }, 'sha-1');
      await store.createAdminKey({ id: 'adm-0', name: 'ro', role: 'read_only', prefix: 'gha_0', created_at: at(3) }, 'sha-0');
      expect(a).toEqual({ id: 'adm-1', name: 'ops', role: 'admin', prefix: 'gha_1', created_at: at(3), revoked_at: null });
      expect(await store.findAdminKey('sha-1')).toEqual(a);
      expect(await store.findAdminKey('sha-x')).toBeUndefined();
      expect((await store.listAdminKeys()).map((k) => k.id)).toEqual(['adm-1', 'adm-0']);
      expect((await store.revokeAdminKey('adm-1', at(4)))?.revoked_at).toBe(at(4));
      expect((await store.revokeAdminKey('adm-1', at(5)))?.revoked_at).toBe(at(4));
      expect(await store.revokeAdminKey('adm-x', at(5))).toBeUndefined();
    });
  });

  describe('configs, providers, policies', () => {
    it('upserts, lists by id and deletes configs', async () => {
      await store.putConfig({ id: 'b-cfg', body: '{"provider":"@a"}', workspace: null, updated_at: at(1) });
      await store.putConfig({ id: 'a-cfg', body: '{}', workspace: 'payments', updated_at: at(1) });
      await store.putConfig({ id: 'b-cfg', body: '{"provider":"@b"}', workspace: 'default', updated_at: at(2) });
      expect(await store.listConfigs()).toEqual([
        { id: 'a-cfg', body: '{}', workspace: 'payments', updated_at: at(1) },
        { id: 'b-cfg', body: '{"provider":"@b"}', workspace: 'default', updated_at: at(2) },
      ]);
      expect(await store.deleteConfig('a-cfg')).toBe(true);
      expect(await store.deleteConfig('a-cfg')).toBe(false);
    });

    it('keeps provider credentials sealed, byte for byte', async () => {
      const dk = resolveDataKey('/nonexistent', { GATEHOUSE_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') });
      const secret = seal(dk, '{"api_key":"sk-ant-secret"}', 'bedrock-eu');
      await store.putProvider({ id: 'bedrock-eu', kind: 'bedrock', settings: '{"region":"eu-west-1"}', secret, updated_at: at(1) });
      await store.putProvider({ id: 'anthropic-b', kind: 'anthropic', settings: '{}', secret: Buffer.from([0, 255, 1]), updated_at: at(1) });
      const list = await store.listProviders();
      expect(list.map((p) => p.id)).toEqual(['anthropic-b', 'bedrock-eu']);
      expect(Buffer.compare(list[1]!.secret, secret)).toBe(0);
      expect(open(dk, list[1]!.secret, 'bedrock-eu')).toBe('{"api_key":"sk-ant-secret"}');
      expect([...list[0]!.secret]).toEqual([0, 255, 1]);
      await store.putProvider({ ...list[0]!, kind: 'vertex', updated_at: at(2) });
      expect((await store.listProviders())[0]).toMatchObject({ kind: 'vertex', updated_at: at(2) });
      expect(await store.deleteProvider('anthropic-b')).toBe(true);
      expect(await store.deleteProvider('anthropic-b')).toBe(false);
    });

    it('keeps workspaces and guardrails apart', async () => {
      await store.putPolicy('workspace', { id: 'support', body: '{"name":"Support"}', updated_at: at(1) });
      await store.putPolicy('guardrail', { id: 'support', body: '{"type":"secrets"}', updated_at: at(1) });
      await store.putPolicy('workspace', { id: 'support', body: '{"name":"Help"}', updated_at: at(2) });
      expect(await store.listPolicies('workspace')).toEqual([{ id: 'support', body: '{"name":"Help"}', updated_at: at(2) }]);
      expect(await store.listPolicies('guardrail')).toEqual([{ id: 'support', body: '{"type":"secrets"}', updated_at: at(1) }]);
      expect(await store.deletePolicy('guardrail', 'support')).toBe(true);
      expect(await store.deletePolicy('guardrail', 'support')).toBe(false);
      expect(await store.listPolicies('workspace')).toHaveLength(1);
    });
  });
});
