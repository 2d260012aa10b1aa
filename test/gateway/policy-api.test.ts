// Workspaces and guardrails created through the admin API: they apply from the next request, a
// change applies to the request after it, they survive a restart on the same data directory, and
// the config file's own stay read-only here.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

const AWS_KEY = 'AKIAIOSFODNN7EXAMPLE';
let emu: AnthropicEmulator;
let dataDir: string;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-policy-'));
});
afterAll(async () => {
  await emu?.close();
  rmSync(dataDir, { recursive: true, force: true });
});

/** The file declares one guardrail and one workspace, to show they stay read-only through the API. */
const config = () =>
  anthropicConfig(emu.url, {
    guardrails: { 'file-pii': { type: 'pii', action: 'flag' } },
    workspaces: { filed: { name: 'From the file' } },
  });
const env = () => ({ TEST_ANTHROPIC_KEY: emu.apiKey });

type Answer = { error?: { type: string; message: string } } & Record<string, unknown>;

async function send(gw: TestGateway, key: string, text = 'hi') {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model: 'claude-haiku-5-5', max_tokens: 16, messages: [{ role: 'user', content: text }] }),
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

const SECURE = { name: 'Secure', guardrails: ['no-aws'], limits: { rpm: 1 } };

describe('workspaces and guardrails through the admin API', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startGateway(config(), env(), dataDir);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('a guardrail and a workspace using it apply to a key created in that workspace', async () => {
    const rail = await gw.admin<Answer>('PUT', '/api/admin/guardrails/no-aws', { type: 'secrets', action: 'deny' });
    expect(rail.status, JSON.stringify(rail.body)).toBe(200);
    expect(rail.body).toMatchObject({ id: 'no-aws', source: 'api', type: 'secrets', action: 'deny' });
    const rails = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/guardrails');
    expect(rails.body.data.map((g) => [g.id, g.source])).toEqual([['file-pii', 'file'], ['no-aws', 'api']]);

    const ws = await gw.admin<Answer>('PUT', '/api/admin/workspaces/secure', SECURE);
    expect(ws.status, JSON.stringify(ws.body)).toBe(200);
    expect(ws.body).toMatchObject({ id: 'secure', source: 'api', name: 'Secure', guardrails: ['no-aws'], limits: { rpm: 1 } });
    const list = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/workspaces');
    expect(list.body.data.map((w) => [w.id, w.source])).toEqual([['default', 'file'], ['filed', 'file'], ['secure', 'api']]);

    const key = await gw.createKey({ name: 'secure-bot', workspace: 'secure' });
    emu.reset();
    const denied = await send(gw, key.key, `my key is ${AWS_KEY}`);
    expect(denied.status).toBe(400);
    expect(denied.body.error?.message).toMatch(/Guardrail "no-aws"/);
    expect(emu.requests).toHaveLength(0);
  });

  it("the workspace's rpm applies, and a change applies to the next request", async () => {
    const key = await gw.createKey({ name: 'limited', workspace: 'secure' });
    // The denied request above counted: the workspace's one request this minute is spent.
    const limited = await send(gw, key.key);
    expect(limited.status).toBe(429);
    expect(limited.body.error?.message).toMatch(/^The workspace "secure" is limited to 1 requests? per minute/);

    const put = await gw.admin<Answer>('PUT', '/api/admin/workspaces/secure', { name: 'Secure' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ guardrails: [], limits: null });
    const through = await send(gw, key.key, `my key is ${AWS_KEY}`);
    expect(through.status, JSON.stringify(through.body)).toBe(200);

    // Back to the guardrail for the restart below.
    expect((await gw.admin('PUT', '/api/admin/workspaces/secure', { ...SECURE, limits: undefined })).status).toBe(200);
  });

  it('refuses bad ids and bodies by path, unknown references, the file\'s own, and a read-only admin key', async () => {
    const file = await gw.admin<Answer>('PUT', '/api/admin/workspaces/filed', { name: 'x' });
    expect(file.status).toBe(409);
    expect(file.body.error?.message).toBe('Workspace filed is defined in the config file; change it there.');
    expect((await gw.admin('DELETE', '/api/admin/workspaces/filed')).status).toBe(409);
    expect((await gw.admin('PUT', '/api/admin/guardrails/file-pii', { type: 'pii' })).status).toBe(409);
    expect((await gw.admin('DELETE', '/api/admin/guardrails/file-pii')).status).toBe(409);

    const bad = await gw.admin<Answer>('PUT', '/api/admin/workspaces/w2', { limits: { rpm: -1 }, colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error?.message).toContain('limits.rpm:');
    const refs = await gw.admin<Answer>('PUT', '/api/admin/workspaces/w2', { providers: ['nope'], guardrails: ['missing'], default_config: 'none-such' });
    expect(refs.status).toBe(400);
    expect(refs.body.error?.message).toBe('providers.0: "nope" is not a provider of this gateway; guardrails.0: "missing" is not a guardrail of this gateway; default_config: "none-such" is not a routing config of this gateway');
    expect((await gw.admin('PUT', '/api/admin/workspaces/Bad%20Id', {})).status).toBe(400);
    const rail = await gw.admin<Answer>('PUT', '/api/admin/guardrails/r2', { type: 'regex' });
    expect(rail.status).toBe(400);
    expect(rail.body.error?.message).toContain('pattern');
    expect((await gw.admin('DELETE', '/api/admin/workspaces/nope')).status).toBe(404);
    expect((await gw.admin('DELETE', '/api/admin/guardrails/nope')).status).toBe(404);

    const ro = await gw.admin<{ key: string }>('POST', '/api/admin/admin-keys', { name: 'viewer', role: 'read_only' });
    const asViewer = (method: string, path: string, body?: unknown) =>
      fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${ro.body.key}`, ...(body ? { 'content-type': 'application/json' } : {}) }, body: body ? JSON.stringify(body) : undefined });
    expect((await asViewer('PUT', '/api/admin/workspaces/w3', {})).status).toBe(403);
    expect((await asViewer('DELETE', '/api/admin/workspaces/secure')).status).toBe(403);
    expect((await asViewer('PUT', '/api/admin/guardrails/g3', { type: 'secrets' })).status).toBe(403);
    expect((await asViewer('DELETE', '/api/admin/guardrails/no-aws')).status).toBe(403);
    expect((await asViewer('GET', '/api/admin/guardrails')).status).toBe(200);
  });

  it('delete is refused while a guardrail is named or a workspace has keys', async () => {
    const used = await gw.admin<Answer>('DELETE', '/api/admin/guardrails/no-aws');
    expect(used.status).toBe(409);
    expect(used.body.error?.message).toBe('Guardrail no-aws is used by workspace(s) secure; change them first.');
    expect((await gw.admin('PUT', '/api/admin/guardrails/temp', { type: 'blocked_words', words: ['x'] })).status).toBe(200);
    expect((await gw.admin('PUT', '/api/admin/configs/guarded', { input_guardrails: ['temp'] })).status).toBe(200);
    const byConfig = await gw.admin<Answer>('DELETE', '/api/admin/guardrails/temp');
    expect(byConfig.body.error?.message).toBe('Guardrail temp is used by config(s) guarded; change them first.');
    expect((await gw.admin('DELETE', '/api/admin/configs/guarded')).status).toBe(204);
    expect((await gw.admin('DELETE', '/api/admin/guardrails/temp')).status).toBe(204);

    expect((await gw.admin('PUT', '/api/admin/workspaces/short-lived', {})).status).toBe(200);
    const key = await gw.createKey({ name: 'member', workspace: 'short-lived' });
    const busy = await gw.admin<Answer>('DELETE', '/api/admin/workspaces/short-lived');
    expect(busy.status).toBe(409);
    expect(busy.body.error?.message).toContain(key.id);
    await gw.admin('POST', `/api/admin/keys/${key.id}/revoke`);
    expect((await gw.admin('DELETE', '/api/admin/workspaces/short-lived')).status).toBe(204);
    const late = await gw.admin<Answer>('POST', '/api/admin/keys', { name: 'late', workspace: 'short-lived' });
    expect(late.status).toBe(400);
  });
});

describe('after a restart on the same data directory', () => {
  it('the stored workspace and guardrail are loaded and apply', async () => {
    const gw = await startGateway(config(), env(), dataDir);
    try {
      const list = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/workspaces');
      expect(list.body.data).toContainEqual(expect.objectContaining({ id: 'secure', source: 'api', guardrails: ['no-aws'] }));
      const rails = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/guardrails');
      expect(rails.body.data).toContainEqual(expect.objectContaining({ id: 'no-aws', source: 'api' }));
      const key = await gw.createKey({ name: 'after-restart', workspace: 'secure' });
      expect((await send(gw, key.key, `my key is ${AWS_KEY}`)).status).toBe(400);
      expect((await send(gw, key.key)).status).toBe(200);
    } finally {
      await gw.close();
    }
  });
});
