// The admin API for keys, as a script or the CLI would call it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyView, KeyWithSecret } from '../../gateway/src/api/schemas.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

interface Envelope {
  error: { type: string; message: string };
}

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { workspaces: { payments: { name: 'Payments' } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});

const models = (key: string) => fetch(`${gw.url}/v1/models`, { headers: { authorization: `Bearer ${key}` } });

describe('admin API: keys', () => {
  it('creates a key in a workspace with metadata and expiry; the secret is only in this answer', async () => {
    const r = await gw.admin<KeyWithSecret>('POST', '/api/admin/keys', { name: 'alice', workspace: 'payments', provider: '@anthropic', metadata: { team: 'pay' }, expires_in: '7d' });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: 'alice', workspace: 'payments', provider: 'anthropic', metadata: { team: 'pay' }, status: 'active' });
    expect(r.body.key.startsWith(r.body.prefix)).toBe(true);
    const days = (Date.parse(r.body.expires_at!) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(6.9);
    expect(days).toBeLessThanOrEqual(7);

    const one = await gw.admin<KeyView>('GET', `/api/admin/keys/${r.body.id}`);
    expect(one.body.id).toBe(r.body.id);
    expect(JSON.stringify(one.body)).not.toContain(r.body.key);
    const list = await gw.admin<{ data: KeyView[] }>('GET', '/api/admin/keys?workspace=payments');
    expect(list.body.data.map((k) => k.id)).toContain(r.body.id);
    expect(JSON.stringify(list.body)).not.toContain(r.body.key);
    expect((await models(r.body.key)).status).toBe(200);
  });

  it('rejects a bad request naming each field', async () => {
    const r = await gw.admin<Envelope>('POST', '/api/admin/keys', { workspace: 'nowhere', expires_in: 'soon', colour: 'red' });
    expect(r.status).toBe(400);
    expect(r.body.error.type).toBe('invalid_request_error');
    expect(r.body.error.message).toMatch(/name: /);
    expect(r.body.error.message).toMatch(/colour/);
  });

  it('rejects an unknown workspace, provider or config', async () => {
    const ws = await gw.admin<Envelope>('POST', '/api/admin/keys', { name: 'x', workspace: 'nowhere' });
    expect(ws.body.error.message).toMatch(/workspace: "nowhere" is not defined; known: default, payments/);
    const pr = await gw.admin<Envelope>('POST', '/api/admin/keys', { name: 'x', provider: '@bedrock' });
    expect(pr.body.error.message).toMatch(/@bedrock is not configured/);
    const cf = await gw.admin<Envelope>('POST', '/api/admin/keys', { name: 'x', config: 'prod' });
    expect(cf.body.error.message).toMatch(/config: "prod" is not defined/);
  });

  it('a rotated key keeps working through its grace period, next to the new one', async () => {
    const k = await gw.createKey({ name: 'rotating' });
    const r = await gw.admin<KeyWithSecret>('POST', `/api/admin/keys/${k.id}/rotate`, { grace: '1h' });
    expect(r.body.id).toBe(k.id);
    expect(r.body.key).not.toBe(k.key);
    expect(r.body.prefix).toBe(r.body.key.slice(0, 10));
    expect((await models(k.key)).status).toBe(200);
    expect((await models(r.body.key)).status).toBe(200);
  });

  it('a revoked key cannot be rotated back to life', async () => {
    const k = await gw.createKey({ name: 'done' });
    await gw.admin('POST', `/api/admin/keys/${k.id}/revoke`, {});
    const r = await gw.admin<Envelope>('POST', `/api/admin/keys/${k.id}/rotate`, {});
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/is revoked; create a new key/);
  });

  it('unknown ids are a 404', async () => {
    const r = await gw.admin<Envelope>('POST', '/api/admin/keys/key_nope/revoke', {});
    expect(r.status).toBe(404);
    expect(r.body.error.message).toBe('Key key_nope was not found.');
  });

  it('a developer key cannot use the admin API', async () => {
    const k = await gw.createKey({ name: 'dev' });
    const res = await fetch(`${gw.url}/api/admin/keys`, { headers: { authorization: `Bearer ${k.key}` } });
    expect(res.status).toBe(401);
    expect(((await res.json()) as Envelope).error.message).toMatch(/needs the admin key \(GATEHOUSE_ADMIN_KEY\)/);
  });
});

describe('OpenAPI document', () => {
  it('describes the routes, generated from the same schemas the routes check', async () => {
    const res = await fetch(`${gw.url}/api/openapi.json`);
    expect(res.status).toBe(200);
    const doc = (await res.json()) as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: { required?: string[]; properties?: Record<string, unknown> } }> } }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/v1/messages', '/v1/models', '/api/admin/keys', '/api/admin/keys/{id}/rotate']));
    const create = doc.paths['/api/admin/keys']!.post!.requestBody!.content['application/json']!.schema;
    expect(create.required).toContain('name');
    expect(Object.keys(create.properties ?? {})).toEqual(expect.arrayContaining(['name', 'workspace', 'provider', 'metadata', 'expires_in']));
  });
});

describe('admin API: routing configs', () => {
  it('creates a config through the API, validated like the file, usable by keys at once', async () => {
    const put = await gw.admin<{ id: string; source: string }>('PUT', '/api/admin/configs/team-eng', {
      strategy: { mode: 'fallback' },
      targets: [{ provider: '@anthropic' }, { provider: '@anthropic', override_params: { model: 'claude-haiku-5-5' } }],
    });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ id: 'team-eng', source: 'api' });
    const list = await gw.admin<{ data: Array<{ id: string; source: string }> }>('GET', '/api/admin/configs');
    expect(list.body.data).toContainEqual(expect.objectContaining({ id: 'team-eng', source: 'api' }));

    const key = (await gw.createKey({ name: 'eng', config: 'team-eng' })).key;
    emu.enqueue({ kind: 'status', status: 503 });
    const res = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
      body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-portkey-last-used-option-index')).toBe('config.targets[1]');
    expect((emu.requests.at(-1)!.json as { model: string }).model).toBe('claude-haiku-5-5');
  });

  it('names every problem of a bad config by path', async () => {
    const r = await gw.admin<Envelope>('PUT', '/api/admin/configs/broken', { strategy: { mode: 'fallback' }, targets: [{ provider: '@nowhere' }, { provider: '@anthropic', retry: { attempts: 9 } }] });
    expect(r.status).toBe(400);
    expect(r.body.error.message).toMatch(/config\.targets\.1\.retry\.attempts: at most 5 retries/);
  });

  it('refuses to delete a config a key uses, and deletes it once unused', async () => {
    await gw.admin('PUT', '/api/admin/configs/temp', { provider: '@anthropic' });
    const k = await gw.createKey({ name: 'temp-user', config: 'temp' });
    expect((await gw.admin<Envelope>('DELETE', '/api/admin/configs/temp')).status).toBe(409);
    await gw.admin('POST', `/api/admin/keys/${k.id}/revoke`, {});
    expect((await gw.admin('DELETE', '/api/admin/configs/temp')).status).toBe(204);
    expect((await gw.admin('GET', '/api/admin/configs/temp')).status).toBe(404);
  });
});
