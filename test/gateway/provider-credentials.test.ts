// Every way an admin can give the gateway its Bedrock and Vertex credentials, each proven
// against the emulators that verify them (SigV4 signatures, bearer API keys, RS256 JWTs).
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BedrockEmulator } from '../emulators/bedrock.js';
import { VertexEmulator } from '../emulators/vertex.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

let bedrock: BedrockEmulator;
let vertex: VertexEmulator;
const SESSION = { accessKeyId: 'ASIAEMULATORSESSION1', secretAccessKey: 'session-secret-for-the-emulator', sessionToken: 'FwoGZXIvYXdzEMULATORTOKEN' };

beforeAll(async () => {
  [bedrock, vertex] = await Promise.all([
    BedrockEmulator.start({ credentials: [BedrockEmulator.DEFAULT_CREDENTIALS, SESSION], apiKeys: ['bedrock-api-key-for-tests'] }),
    VertexEmulator.start(),
  ]);
});
afterAll(async () => {
  await Promise.all([bedrock?.close(), vertex?.close()]);
});

async function callThrough(gw: TestGateway, model = 'claude-opus-5-5') {
  const key = (await gw.createKey({ name: 'creds' })).key;
  const res = await fetch(`${gw.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key },
    body: JSON.stringify({ model, max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  return { status: res.status, body: (await res.json()) as { content?: Array<{ text?: string }>; error?: { type: string; message: string } } };
}

async function withGateway(config: Record<string, unknown>, env: Record<string, string>, fn: (gw: TestGateway) => Promise<void>) {
  const gw = await startGateway(config, env);
  try {
    await fn(gw);
  } finally {
    await gw.close();
  }
}

describe('Bedrock credentials', () => {
  const base = () => ({ kind: 'bedrock', region: 'us-east-1', base_url: bedrock.url });

  it('static keys with an STS session token are signed with x-amz-security-token', async () => {
    await withGateway(
      { providers: { b: { ...base(), access_key_id: 'env:ID', secret_access_key: 'env:SECRET', session_token: 'env:TOKEN' } } },
      { ID: SESSION.accessKeyId, SECRET: SESSION.secretAccessKey, TOKEN: SESSION.sessionToken },
      async (gw) => {
        bedrock.reset();
        const r = await callThrough(gw);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(bedrock.requests[0]!.headers['x-amz-security-token']).toBe(SESSION.sessionToken);
        expect(bedrock.requests[0]!.auth).toBe('sigv4');
      },
    );
  });

  it('a Bedrock API key is sent as a bearer token', async () => {
    await withGateway({ providers: { b: { ...base(), api_key: 'env:BEDROCK_KEY' } } }, { BEDROCK_KEY: 'bedrock-api-key-for-tests' }, async (gw) => {
      bedrock.reset();
      expect((await callThrough(gw)).status).toBe(200);
      expect(bedrock.requests[0]!.headers.authorization).toBe('Bearer bedrock-api-key-for-tests');
    });
  });

  it('with no credentials in the config, the default AWS chain reads the environment', async () => {
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY, imds: process.env.AWS_EC2_METADATA_DISABLED };
    process.env.AWS_ACCESS_KEY_ID = BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = BedrockEmulator.DEFAULT_CREDENTIALS.secretAccessKey;
    // Never probe an instance-metadata address from a test machine.
    process.env.AWS_EC2_METADATA_DISABLED = 'true';
    try {
      await withGateway({ providers: { b: base() } }, {}, async (gw) => {
        bedrock.reset();
        const r = await callThrough(gw);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(String(bedrock.requests[0]!.headers.authorization)).toContain(`Credential=${BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId}/`);
      });
    } finally {
      for (const [k, v] of [['AWS_ACCESS_KEY_ID', saved.id], ['AWS_SECRET_ACCESS_KEY', saved.secret], ['AWS_EC2_METADATA_DISABLED', saved.imds]] as const) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
    }
  });

  it('a key reference that is not set makes the provider say which variable to set', async () => {
    await withGateway({ providers: { b: { ...base(), access_key_id: 'env:GH_TEST_UNSET_ID', secret_access_key: 'env:GH_TEST_UNSET_SECRET' } } }, {}, async (gw) => {
      const r = await callThrough(gw);
      expect(r.status).toBe(500);
      expect(r.body.error?.message).toMatch(/Provider @b has no credentials: set the environment variable GH_TEST_UNSET_ID/);
    });
  });

  it('lists Anthropic-style model ids for a Bedrock key, and an ARN from the models map is used as is', async () => {
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abc123';
    await withGateway(
      { providers: { b: { ...base(), access_key_id: 'env:ID', secret_access_key: 'env:SECRET', models: { 'claude-opus-5-5': arn, 'claude-sonnet-4-5-20250929': 'us.anthropic.claude-sonnet-4-5-20250929-v1:0' } } } },
      { ID: BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId, SECRET: BedrockEmulator.DEFAULT_CREDENTIALS.secretAccessKey },
      async (gw) => {
        const key = (await gw.createKey({ name: 'm' })).key;
        const list = (await (await fetch(`${gw.url}/v1/models`, { headers: { 'x-api-key': key } })).json()) as { data: Array<{ id: string }> };
        expect(list.data.map((m) => m.id).sort()).toEqual(['claude-opus-5-5', 'claude-sonnet-4-5-20250929']);
        bedrock.reset();
        expect((await callThrough(gw)).status).toBe(200);
        expect(bedrock.requests[0]!.modelId).toBe(arn);
      },
    );
  });
});

describe('Vertex credentials', () => {
  const base = () => ({ kind: 'vertex', project: vertex.project, region: 'us-east5', base_url: vertex.baseUrl, token_url: vertex.tokenUrl });

  it('a service account from a file reference', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-sa-'));
    writeFileSync(join(dir, 'sa.json'), JSON.stringify(vertex.serviceAccount()));
    await withGateway({ providers: { v: { ...base(), service_account: `file:${join(dir, 'sa.json')}` } } }, {}, async (gw) => {
      vertex.reset();
      const r = await callThrough(gw);
      expect(r.status, JSON.stringify(r.body)).toBe(200);
      expect(vertex.tokenRequests.some((t) => t.ok)).toBe(true);
    });
  });

  it('application default credentials (GOOGLE_APPLICATION_CREDENTIALS)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gh-adc-'));
    writeFileSync(join(dir, 'adc.json'), JSON.stringify(vertex.serviceAccount()));
    const saved = process.env.GOOGLE_APPLICATION_CREDENTIALS;
    process.env.GOOGLE_APPLICATION_CREDENTIALS = join(dir, 'adc.json');
    try {
      await withGateway({ providers: { v: base() } }, {}, async (gw) => {
        vertex.reset();
        const r = await callThrough(gw);
        expect(r.status, JSON.stringify(r.body)).toBe(200);
        expect(vertex.tokenRequests.some((t) => t.ok)).toBe(true);
      });
    } finally {
      if (saved === undefined) delete process.env.GOOGLE_APPLICATION_CREDENTIALS;
      else process.env.GOOGLE_APPLICATION_CREDENTIALS = saved;
    }
  });

  it('a service account Google refuses is a 502 blaming the gateway credentials', async () => {
    const sa = vertex.serviceAccount();
    const forged = { ...sa, private_key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() };
    await withGateway({ providers: { v: { ...base(), service_account: 'env:SA' } } }, { SA: JSON.stringify(forged) }, async (gw) => {
      const r = await callThrough(gw);
      expect(r.status).toBe(502);
      expect(r.body.error?.message).toMatch(/Provider @v refused the gateway's own credentials: getting a Google access token failed/);
    });
  });

  it('a service-account reference that is not JSON is reported at start', async () => {
    await withGateway({ providers: { v: { ...base(), service_account: 'env:SA' } } }, { SA: 'not json' }, async (gw) => {
      const r = await callThrough(gw);
      expect(r.status).toBe(500);
      expect(r.body.error?.message).toMatch(/service_account \(env:SA\) is not a service-account JSON with client_email and private_key/);
    });
  });
});
