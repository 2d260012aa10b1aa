// Providers created through the admin API: credentials are write-only (never in an answer) and
// sealed at rest (never in the SQLite file), the provider serves at once and after a restart,
// and a data key that does not open them stops the start with a sentence naming the variable.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { BedrockEmulator } from '../emulators/bedrock.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

const API_KEY = 'sk-ant-api-created-provider-secret-0123456789';
let fileEmu: AnthropicEmulator;
let apiEmu: AnthropicEmulator;
let bedrock: BedrockEmulator;
let dataDir: string;

beforeAll(async () => {
  [fileEmu, apiEmu, bedrock] = await Promise.all([AnthropicEmulator.start(), AnthropicEmulator.start({ apiKey: API_KEY }), BedrockEmulator.start()]);
  dataDir = mkdtempSync(join(tmpdir(), 'gatehouse-providers-'));
});
afterAll(async () => {
  await Promise.all([fileEmu?.close(), apiEmu?.close(), bedrock?.close()]);
  rmSync(dataDir, { recursive: true, force: true });
});

const config = () => anthropicConfig(fileEmu.url);
const env = () => ({ TEST_ANTHROPIC_KEY: fileEmu.apiKey });

type Answer = { error?: { type: string; message: string } } & Record<string, unknown>;

async function send(gw: TestGateway, key: string, model = 'claude-haiku-5-5') {
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: (await res.json()) as Answer };
}

/** The database and its write-ahead log, as bytes on disk. */
function databaseBytes(dir: string): string {
  const files = ['gatehouse.db', 'gatehouse.db-wal'].map((f) => join(dir, f)).filter((f) => existsSync(f));
  return Buffer.concat(files.map((f) => readFileSync(f))).toString('latin1');
}

describe('providers through the admin API', () => {
  let gw: TestGateway;

  beforeAll(async () => {
    gw = await startGateway(config(), env(), dataDir);
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('an Anthropic provider is stored without its key in any answer or on disk, and serves at once', async () => {
    const put = await gw.admin<Answer>('PUT', '/api/admin/providers/team-anthropic', { kind: 'anthropic', base_url: apiEmu.url, credentials: { api_key: API_KEY } });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body).toMatchObject({ id: 'team-anthropic', kind: 'anthropic', source: 'api', ready: true, credentials: { api_key: 'set' }, settings: { base_url: apiEmu.url } });
    const list = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/providers');
    expect(list.body.data.map((p) => [p.id, p.source])).toEqual([['anthropic', 'file'], ['team-anthropic', 'api']]);
    expect(JSON.stringify(put.body) + JSON.stringify(list.body)).not.toContain(API_KEY);

    const key = await gw.createKey({ name: 'team', provider: '@team-anthropic' });
    apiEmu.reset();
    const r = await send(gw, key.key);
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(apiEmu.requests).toHaveLength(1);
    expect(apiEmu.requests[0]!.headers['x-api-key']).toBe(API_KEY);

    expect(databaseBytes(gw.dataDir)).not.toContain(API_KEY);
    expect(statSync(join(gw.dataDir, 'secret.key')).mode & 0o777).toBe(0o600);
  });

  it('routing configs may name it as soon as it exists', async () => {
    const put = await gw.admin('PUT', '/api/admin/configs/team-route', { provider: '@team-anthropic' });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
  });

  it('refuses a file provider id, invalid settings by path, and a read-only admin key', async () => {
    const file = await gw.admin<Answer>('PUT', '/api/admin/providers/anthropic', { kind: 'anthropic', credentials: { api_key: 'x' } });
    expect(file.status).toBe(409);
    expect(file.body.error?.message).toBe('Provider anthropic is defined in the config file; change it there.');
    expect((await gw.admin('DELETE', '/api/admin/providers/anthropic')).status).toBe(409);

    const noKey = await gw.admin<Answer>('PUT', '/api/admin/providers/p2', { kind: 'anthropic', credentials: {} });
    expect(noKey.status).toBe(400);
    expect(noKey.body.error?.message).toContain('credentials.api_key:');
    const ref = await gw.admin<Answer>('PUT', '/api/admin/providers/p2', { kind: 'anthropic', api_key: 'env:X', credentials: { api_key: 'k' } });
    expect(ref.status).toBe(400);
    expect(ref.body.error?.message).toContain('api_key');
    const half = await gw.admin<Answer>('PUT', '/api/admin/providers/p2', { kind: 'bedrock', region: 'us-east-1', credentials: { access_key_id: 'AKIA' } });
    expect(half.status).toBe(400);
    expect(half.body.error?.message).toContain('credentials: give either');
    const sa = await gw.admin<Answer>('PUT', '/api/admin/providers/p2', { kind: 'vertex', project: 'p', region: 'us-east5', credentials: { service_account: '{}' } });
    expect(sa.status).toBe(400);
    expect(sa.body.error?.message).toContain('credentials.service_account: the service-account JSON');
    const kind = await gw.admin<Answer>('PUT', '/api/admin/providers/p2', { kind: 'openai' });
    expect(kind.status).toBe(400);
    expect(kind.body.error?.message).toContain('kind must be one of');
    expect((await gw.admin('PUT', '/api/admin/providers/Bad%20Id', { kind: 'anthropic', credentials: { api_key: 'k' } })).status).toBe(400);

    const ro = await gw.admin<{ key: string }>('POST', '/api/admin/admin-keys', { name: 'viewer', role: 'read_only' });
    const res = await fetch(`${gw.url}/api/admin/providers/p2`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${ro.body.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'anthropic', credentials: { api_key: 'k' } }),
    });
    expect(res.status).toBe(403);
    expect((await fetch(`${gw.url}/api/admin/providers/team-anthropic`, { method: 'DELETE', headers: { authorization: `Bearer ${ro.body.key}` } })).status).toBe(403);
  });

  it('a Bedrock provider with static keys signs its requests', async () => {
    const creds = BedrockEmulator.DEFAULT_CREDENTIALS;
    const put = await gw.admin<Answer>('PUT', '/api/admin/providers/team-bedrock', {
      kind: 'bedrock',
      region: 'us-east-1',
      base_url: bedrock.url,
      credentials: { access_key_id: creds.accessKeyId, secret_access_key: creds.secretAccessKey },
    });
    expect(put.status, JSON.stringify(put.body)).toBe(200);
    expect(put.body.credentials).toEqual({ access_key_id: 'set', secret_access_key: 'set' });
    expect(JSON.stringify(put.body)).not.toContain(creds.secretAccessKey);
    const key = await gw.createKey({ name: 'bedrock', provider: 'team-bedrock' });
    bedrock.reset();
    const r = await send(gw, key.key, 'claude-opus-5-5');
    expect(r.status, JSON.stringify(r.body)).toBe(200);
    expect(bedrock.requests[0]!.auth).toBe('sigv4');
    expect(databaseBytes(gw.dataDir)).not.toContain(creds.secretAccessKey);
  });

  it('delete is refused while a key or a config names the provider', async () => {
    const used = await gw.admin<Answer>('DELETE', '/api/admin/providers/team-anthropic');
    expect(used.status).toBe(409);
    expect(used.body.error?.message).toMatch(/^Provider team-anthropic is used by 1 key\(s\) \(key_\w+\) and config\(s\) team-route; change them first\.$/);
    expect((await gw.admin('DELETE', '/api/admin/providers/nope')).status).toBe(404);

    const key = await gw.createKey({ name: 'short-lived', provider: 'team-bedrock' });
    const blocked = await gw.admin<Answer>('DELETE', '/api/admin/providers/team-bedrock');
    expect(blocked.body.error?.message).toContain(key.id);
    await gw.admin('POST', `/api/admin/keys/${key.id}/revoke`);
    const keys = await gw.admin<{ data: Array<{ id: string; provider: string | null; status: string }> }>('GET', '/api/admin/keys');
    for (const k of keys.body.data.filter((k) => k.provider === 'team-bedrock' && k.status === 'active')) await gw.admin('POST', `/api/admin/keys/${k.id}/revoke`);
    expect((await gw.admin('DELETE', '/api/admin/providers/team-bedrock')).status).toBe(204);
    const list = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/providers');
    expect(list.body.data.map((p) => p.id)).toEqual(['anthropic', 'team-anthropic']);
    const created = await gw.admin<Answer>('POST', '/api/admin/keys', { name: 'late', provider: 'team-bedrock' });
    expect(created.status).toBe(400);
  });
});

describe('after a restart', () => {
  it('the stored provider is loaded and serves', async () => {
    const gw = await startGateway(config(), env(), dataDir);
    try {
      const list = await gw.admin<{ data: Answer[] }>('GET', '/api/admin/providers');
      expect(list.body.data).toContainEqual(expect.objectContaining({ id: 'team-anthropic', source: 'api', ready: true, credentials: { api_key: 'set' } }));
      const key = await gw.createKey({ name: 'after-restart', provider: 'team-anthropic' });
      apiEmu.reset();
      expect((await send(gw, key.key)).status).toBe(200);
      expect(apiEmu.requests[0]!.headers['x-api-key']).toBe(API_KEY);
    } finally {
      await gw.close();
    }
  });

  it('a GATEHOUSE_SECRET_KEY that did not seal the credentials stops the start, naming the variable', async () => {
    const wrong = randomBytes(32).toString('base64');
    await expect(startGateway(config(), { ...env(), GATEHOUSE_SECRET_KEY: wrong }, dataDir)).rejects.toThrow(/team-anthropic.*cannot be decrypted with the environment variable GATEHOUSE_SECRET_KEY/);
    await expect(startGateway(config(), { ...env(), GATEHOUSE_SECRET_KEY: 'too-short' }, dataDir)).rejects.toThrow('The environment variable GATEHOUSE_SECRET_KEY must be 32 random bytes in base64');
  });

  it('the same key given as GATEHOUSE_SECRET_KEY opens them', async () => {
    const gw = await startGateway(config(), { ...env(), GATEHOUSE_SECRET_KEY: readFileSync(join(dataDir, 'secret.key'), 'utf8').trim() }, dataDir);
    try {
      expect((await gw.admin<{ data: Answer[] }>('GET', '/api/admin/providers')).body.data.map((p) => p.id)).toContain('team-anthropic');
    } finally {
      await gw.close();
    }
  });
});
