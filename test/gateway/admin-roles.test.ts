// Admin keys with roles: a read-only key for dashboards and scripts reads everything and changes
// nothing; providers and guardrails are shown without any credential.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { guardrails: { 'no-secrets': { type: 'secrets', action: 'deny' } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

const call = async (key: string, method: string, path: string, body?: unknown) => {
  const res = await fetch(gw.url + path, { method, headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
  return { status: res.status, body: (await res.json()) as { error?: { type: string; message: string } } & Record<string, unknown> };
};

describe('admin roles', () => {
  it('a read-only admin key reads and cannot write; a revoked one is refused', async () => {
    const created = await gw.admin<{ id: string; key: string; role: string }>('POST', '/api/admin/admin-keys', { name: 'grafana', role: 'read_only' });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^gha_[A-Za-z0-9]{43}$/);
    const ro = created.body.key;
    for (const path of ['/api/admin/keys', '/api/admin/logs', '/api/admin/budgets', '/api/admin/workspaces', '/api/admin/providers', '/api/admin/guardrails']) {
      expect((await call(ro, 'GET', path)).status, path).toBe(200);
    }
    const write = await call(ro, 'POST', '/api/admin/keys', { name: 'nope' });
    expect(write.status).toBe(403);
    expect(write.body.error).toMatchObject({ type: 'permission_error', message: 'This admin key is read-only and cannot POST /api/admin/keys. Use an admin key with the "admin" role.' });
    const listed = await gw.admin<{ data: Array<{ id: string; role: string; prefix: string }> }>('GET', '/api/admin/admin-keys');
    expect(listed.body.data).toEqual([expect.objectContaining({ id: created.body.id, role: 'read_only' })]);
    expect(JSON.stringify(listed.body)).not.toContain(ro);
    await gw.admin('POST', `/api/admin/admin-keys/${created.body.id}/revoke`);
    expect((await call(ro, 'GET', '/api/admin/keys')).status).toBe(401);
  });

  it('an admin-role key created through the API can write', async () => {
    const created = await gw.admin<{ key: string }>('POST', '/api/admin/admin-keys', { name: 'ops', role: 'admin' });
    expect((await call(created.body.key, 'POST', '/api/admin/keys', { name: 'by-ops' })).status).toBe(201);
    // It cannot call models, like the gateway's own admin key.
    expect((await call(created.body.key, 'POST', '/v1/messages', { model: 'claude-haiku-5-5', max_tokens: 8, messages: [] })).status).toBe(401);
  });

  it('providers and guardrails are listed without credentials', async () => {
    const p = await gw.admin<{ data: Array<Record<string, unknown>> }>('GET', '/api/admin/providers');
    expect(p.body.data).toEqual([expect.objectContaining({ id: 'anthropic', kind: 'anthropic', ready: true })]);
    expect(JSON.stringify(p.body)).not.toContain(emu.apiKey);
    const g = await gw.admin<{ data: Array<Record<string, unknown>> }>('GET', '/api/admin/guardrails');
    expect(g.body.data).toEqual([expect.objectContaining({ id: 'no-secrets', type: 'secrets', action: 'deny' })]);
  });
});

describe('the OpenAPI document', () => {
  it('describes the governance and observability routes', async () => {
    const doc = (await (await fetch(`${gw.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, { summary: string }>> };
    for (const path of ['/api/admin/logs', '/api/admin/analytics', '/api/admin/budgets', '/api/admin/admin-keys', '/api/me', '/api/me/events', '/api/me/usage']) expect(doc.paths[path], path).toBeDefined();
    expect(doc.paths['/api/admin/keys/{id}']?.patch?.summary).toMatch(/policy/);
  });
});
