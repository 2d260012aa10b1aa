// Proves the Vertex emulator is faithful by driving it with the real clients: google-auth-library
// does the service-account token exchange for real, and @anthropic-ai/vertex-sdk sends what
// production sends, so gateway tests built on the emulator see what Vertex users see.
import { sign } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { APIConnectionError, APIConnectionTimeoutError, APIError, OverloadedError, RateLimitError } from '@anthropic-ai/sdk';
import AnthropicVertex from '@anthropic-ai/vertex-sdk';
import { GoogleAuth } from 'google-auth-library';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { estimateInputTokens } from './anthropic-sse.js';
import { CLOUD_PLATFORM_SCOPE, GOOGLE_TOKEN_URL, VertexEmulator, type ServiceAccount, type VertexRecorded } from './vertex.js';
import { caught, expectClientAborted, lastRequest, typesUntilAbort } from './test-helpers.js';

const MODEL = 'claude-sonnet-4-5@20250929';
const GREETING = 'Hello from the Anthropic emulator.';
const hi = [{ role: 'user' as const, content: 'say hi' }];

let emu: VertexEmulator;
let account: ServiceAccount;
let auth: GoogleAuth;
beforeAll(async () => {
  // Belt and braces: should anything fall back to Application Default Credentials, it must not probe the GCE metadata server.
  process.env.METADATA_SERVER_DETECTION = 'none';
  emu = await VertexEmulator.start();
  account = emu.serviceAccount();
  auth = googleAuth(emu, account);
});
afterAll(async () => { await emu.close(); });
beforeEach(() => emu.reset());

/**
 * google-auth-library 10.9.1 ignores `token_uri` for service accounts: JWT.fromJSON never reads it, and the vendored
 * gtoken posts to a hardcoded https://oauth2.googleapis.com/token (build/src/gtoken/getToken.js), also signed as the
 * JWT `aud` (jwsSign.js). The only seam is the client's Gaxios transporter, reached through GoogleAuth's
 * `clientOptions.transporterOptions.fetchImplementation` (or a whole `clientOptions.transporter`). This fetch sends the
 * token call to the emulator and refuses everything else that is not loopback, so no test can reach Google.
 */
function offlineFetch(tokenUrl: string | undefined, seen: string[], forms: URLSearchParams[]): typeof fetch {
  return async (input, init) => {
    const url = input instanceof Request ? input.url : String(input);
    seen.push(url);
    if (url === GOOGLE_TOKEN_URL) forms.push(new URLSearchParams(String(init?.body ?? '')));
    if (url === GOOGLE_TOKEN_URL && tokenUrl) return fetch(tokenUrl, init);
    if (new URL(url).hostname !== '127.0.0.1') throw new Error(`offline test: refused ${url}`);
    return fetch(input, init);
  };
}

interface AuthOpts { redirect?: boolean; seen?: string[]; forms?: URLSearchParams[]; eagerRefreshThresholdMillis?: number }
function googleAuth(target: VertexEmulator, sa: ServiceAccount, opts: AuthOpts = {}): GoogleAuth {
  const fetchImplementation = offlineFetch(opts.redirect === false ? undefined : target.tokenUrl, opts.seen ?? [], opts.forms ?? []);
  return new GoogleAuth({
    credentials: sa,
    scopes: CLOUD_PLATFORM_SCOPE,
    clientOptions: { transporterOptions: { fetchImplementation }, eagerRefreshThresholdMillis: opts.eagerRefreshThresholdMillis },
  });
}

function vertex(opts: { googleAuth?: GoogleAuth; target?: VertexEmulator; timeout?: number } = {}): AnthropicVertex {
  const target = opts.target ?? emu;
  return new AnthropicVertex({
    baseURL: target.baseUrl, region: 'us-east5', projectId: target.project, googleAuth: opts.googleAuth ?? auth,
    maxRetries: 0, ...(opts.timeout ? { timeout: opts.timeout } : {}),
  });
}

const last = (target = emu): VertexRecorded => lastRequest(target);

/** The access token google-auth-library holds right now (what it put in the SDK's Authorization header). */
async function heldToken(a: GoogleAuth): Promise<string | null | undefined> {
  return (await a.getClient()).credentials.access_token;
}

function sseEvents(rec: VertexRecorded): string[] {
  return rec.responseBytes.toString('utf8').split('\n').flatMap((l) => (l.startsWith('event: ') ? [l.slice(7)] : []));
}

function jwt(claims: Record<string, unknown>, key: string, header: Record<string, unknown> = { alg: 'RS256' }): string {
  const enc = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  const input = `${enc(header)}.${enc(claims)}`;
  return `${input}.${sign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

describe('google-auth-library 10.9.1 against the emulated token endpoint', () => {
  it('ignores token_uri: without the transporter seam it aims at oauth2.googleapis.com', async () => {
    const seen: string[] = [];
    const err = await caught(googleAuth(emu, account, { redirect: false, seen }).getAccessToken());
    expect(String(err)).toContain(`offline test: refused ${GOOGLE_TOKEN_URL}`);
    expect(account.token_uri).toBe(emu.tokenUrl);
    expect(seen.length).toBeGreaterThan(0);
    expect(new Set(seen)).toEqual(new Set([GOOGLE_TOKEN_URL]));
    expect(emu.tokenRequests).toEqual([]);
  });

  it('exchanges a signed service-account JWT for an access token', async () => {
    const sa = emu.serviceAccount();
    const [seen, forms]: [string[], URLSearchParams[]] = [[], []];
    const fresh = googleAuth(emu, sa, { seen, forms });
    const before = Date.now();
    const token = await fresh.getAccessToken();
    expect(token).toMatch(/^ya29\.emu-[\w-]+$/);
    expect(seen).toEqual([GOOGLE_TOKEN_URL]);
    // What gtoken signs: no kid, Google's audience whatever token_uri says, a one-hour assertion.
    const [form] = forms;
    expect(form?.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const [header, claims] = (form?.get('assertion') ?? '').split('.').slice(0, 2).map((p) => JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as unknown);
    expect(header).toEqual({ alg: 'RS256' });
    const c = claims as { iat: number; exp: number };
    expect(claims).toEqual({ iss: sa.client_email, scope: CLOUD_PLATFORM_SCOPE, aud: GOOGLE_TOKEN_URL, iat: c.iat, exp: c.iat + 3600 });
    const client = await fresh.getClient();
    expect(client.credentials.expiry_date).toBeGreaterThanOrEqual(before + 3600_000);
    expect(emu.tokenRequests).toEqual([{ at: expect.any(Number) as unknown, clientEmail: expect.stringMatching(/^emu-sa-\d+@emu-project\.iam\.gserviceaccount\.com$/) as unknown, ok: true }]);
  });

  it('refuses a key pair it did not issue, even under a registered client_email', async () => {
    const forged = { ...account, private_key: emu.serviceAccount().private_key };
    emu.reset();
    const err = await caught(googleAuth(emu, forged).getAccessToken());
    expect(err).toMatchObject({ message: 'invalid_grant: Invalid JWT Signature.', status: 400 });
    expect(emu.tokenRequests).toEqual([expect.objectContaining({ clientEmail: account.client_email, ok: false })]);
    // The SDK files token failures under connection errors, so they follow its retry policy.
    const viaSdk = await caught(vertex({ googleAuth: googleAuth(emu, forged) }).messages.create({ model: MODEL, max_tokens: 8, messages: hi }));
    expect(viaSdk).toBeInstanceOf(APIConnectionError);
    expect(viaSdk).toMatchObject({ message: 'Failed to acquire Google OAuth credentials.' });
    expect(emu.requests).toEqual([]);
  });

  it('checks the grant the way oauth2.googleapis.com does', async () => {
    const now = Math.floor(Date.now() / 1000);
    const good = { iss: account.client_email, scope: CLOUD_PLATFORM_SCOPE, aud: GOOGLE_TOKEN_URL, iat: now, exp: now + 3600 };
    const key = account.private_key;
    const cases: Array<[string, string, number, string]> = [
      ['aud = the emulator token URL', jwt({ ...good, aud: emu.tokenUrl }, key), 200, ''],
      ['kid = private_key_id', jwt(good, key, { alg: 'RS256', kid: account.private_key_id }), 200, ''],
      ['foreign audience', jwt({ ...good, aud: 'https://example.com/token' }, key), 400, 'invalid_grant'],
      ['kid of another key', jwt(good, key, { alg: 'RS256', kid: 'f'.repeat(40) }), 400, 'invalid_grant'],
      ['unknown account', jwt({ ...good, iss: 'nobody@emu-project.iam.gserviceaccount.com' }, key), 400, 'invalid_grant'],
      ['expired', jwt({ ...good, iat: now - 7200, exp: now - 3600 }, key), 400, 'invalid_grant'],
      ['longer than an hour', jwt({ ...good, exp: now + 7200 }, key), 400, 'invalid_grant'],
      ['no cloud-platform scope', jwt({ ...good, scope: 'openid email' }, key), 400, 'invalid_scope'],
      ['domain-wide delegation', jwt({ ...good, sub: 'someone@example.com' }, key), 401, 'unauthorized_client'],
    ];
    for (const [name, assertion, status, error] of cases) {
      const res = await fetch(emu.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }) });
      const body = (await res.json()) as Record<string, unknown>;
      expect([name, res.status, body.error ?? '']).toEqual([name, status, error]);
      if (status !== 200) expect(body.error_description, name).toEqual(expect.any(String));
    }
    const wrongGrant = await fetch(emu.tokenUrl, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    expect([wrongGrant.status, ((await wrongGrant.json()) as { error: string }).error]).toEqual([400, 'unsupported_grant_type']);
    expect(emu.tokenRequests.map((t) => t.ok)).toEqual([true, true, false, false, false, false, false, false, false, false]);
  });
});

describe('AnthropicVertex 1.1.3 with a real GoogleAuth', () => {
  it('create → rawPredict: Vertex body, literal @ in the path, the real bearer token', async () => {
    const msg = await vertex().messages.create({ model: MODEL, max_tokens: 64, messages: hi });
    expect(msg).toMatchObject({ type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', stop_reason: 'end_turn' });
    expect(msg.id).toMatch(/^msg_vrtx_/);
    expect(msg.content).toEqual([{ type: 'text', text: GREETING }]);
    const rec = last();
    expect(rec).toMatchObject({
      method: 'POST', path: `/v1/projects/emu-project/locations/us-east5/publishers/anthropic/models/${MODEL}:rawPredict`,
      project: 'emu-project', region: 'us-east5', model: MODEL, op: 'rawPredict', aborted: false,
    });
    expect(rec.json).toEqual({ max_tokens: 64, messages: hi, anthropic_version: '2026-10-21' });
    expect(rec.headers['anthropic-version']).toBeUndefined();
    expect(rec.token).toMatch(/^ya29\.emu-/);
    expect(rec.token).toBe(await heldToken(auth));
    await rec.done;
    expect(JSON.parse(rec.responseBytes.toString('utf8'))).toEqual(msg);
  });

  it('stream().finalMessage() → streamRawPredict SSE with a ping, thinking and text', async () => {
    const msg = await vertex().messages.stream({
      model: MODEL, max_tokens: 2048, messages: hi, thinking: { type: 'enabled', budget_tokens: 1024 },
    }).finalMessage();
    expect(msg.content.map((b) => b.type)).toEqual(['thinking', 'text']);
    const [thinking, text] = msg.content;
    expect(thinking?.type === 'thinking' && thinking.thinking.length > 0 && thinking.signature.length > 0).toBe(true);
    expect(text?.type === 'text' && text.text).toBe(GREETING);
    const rec = last();
    expect(rec).toMatchObject({ op: 'streamRawPredict', json: { stream: true, anthropic_version: '2026-10-21' } });
    expect(rec.path.endsWith(`${MODEL}:streamRawPredict`)).toBe(true);
    const events = sseEvents(rec);
    expect(events.slice(0, 3)).toEqual(['message_start', 'content_block_start', 'ping']);
    expect(events.slice(-2)).toEqual(['message_delta', 'message_stop']);
  });

  it('stream().finalMessage() assembles a scripted tool_use split across input_json_delta pieces', async () => {
    const input = { city: 'Paris "centre"', tags: ['a', 'ü\n'], nested: { n: 1 } };
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'Checking.' }, { type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input }] });
    const msg = await vertex().messages.stream({ model: MODEL, max_tokens: 64, messages: hi }).finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    expect(msg.content[1]).toEqual({ type: 'tool_use', id: 'toolu_fixed', name: 'get_weather', input });
    expect(sseEvents(last()).filter((e) => e === 'content_block_delta').length).toBeGreaterThan(3);
  });

  it('countTokens → count-tokens:rawPredict, keeping model in the body', async () => {
    const counted = await vertex().messages.countTokens({ model: MODEL, messages: hi });
    const rec = last();
    expect(rec).toMatchObject({ op: 'countTokens', model: 'count-tokens', json: { model: MODEL, messages: hi, anthropic_version: '2026-10-21' } });
    expect(rec.path).toBe('/v1/projects/emu-project/locations/us-east5/publishers/anthropic/models/count-tokens:rawPredict');
    expect(counted.input_tokens).toBe(estimateInputTokens(rec.json));
    const created = await vertex().messages.create({ model: MODEL, max_tokens: 8, messages: hi });
    expect(created.usage.input_tokens).toBe(counted.input_tokens);
  });

  it('decodes %3B in the model segment', async () => {
    await vertex().messages.create({ model: 'claude-opus-5;v2', max_tokens: 8, messages: hi });
    expect(last()).toMatchObject({ model: 'claude-opus-5;v2', path: expect.stringMatching(/models\/claude-opus-5%3Bv2:rawPredict$/) as unknown });
  });

  it('an array-wrapped 429 quota envelope is the SDK RateLimitError; model errors keep Anthropic\'s envelope', async () => {
    emu.enqueue({ kind: 'status', status: 429, arrayWrapped: true }, { kind: 'status', status: 429 },
      { kind: 'anthropicError', status: 529, type: 'overloaded_error' });
    const wrapped = await caught(vertex().messages.create({ model: MODEL, max_tokens: 8, messages: hi }));
    expect(wrapped).toBeInstanceOf(RateLimitError);
    const quota = { error: { code: 429, status: 'RESOURCE_EXHAUSTED', message: expect.stringContaining('base model: anthropic-claude-sonnet-4-5.') as unknown } };
    expect((wrapped as RateLimitError).error).toEqual([quota]);
    expect(last().responseBytes.toString('utf8').startsWith('[{"error":')).toBe(true);
    const plain = await caught(vertex().messages.stream({ model: MODEL, max_tokens: 8, messages: hi }).finalMessage());
    expect(plain).toBeInstanceOf(RateLimitError);
    expect((plain as RateLimitError).error).toEqual(quota);
    const overloaded = await caught(vertex().messages.create({ model: MODEL, max_tokens: 8, messages: hi }));
    expect(overloaded).toBeInstanceOf(OverloadedError);
    expect(overloaded).toMatchObject({ type: 'overloaded_error', error: { type: 'error', request_id: expect.stringMatching(/^req_vrtx_/) as unknown } });
  });

  it('an expired token is refused by the emulator and refreshed by google-auth-library on the next call', async () => {
    const short = await VertexEmulator.start({ tokenTtlSeconds: 1 });
    try {
      // 1 ms, not 0: AuthClient only applies a truthy eagerRefreshThresholdMillis, and the 5 min default would refresh every call.
      const a = googleAuth(short, short.serviceAccount(), { eagerRefreshThresholdMillis: 1 });
      const client = vertex({ target: short, googleAuth: a });
      await client.messages.create({ model: MODEL, max_tokens: 8, messages: hi });
      await client.messages.countTokens({ model: MODEL, messages: hi });
      expect(short.tokenRequests.length).toBe(1);
      const first = last(short).token;
      await sleep(1200);
      const stale = await fetch(`${short.baseUrl}/projects/emu-project/locations/us-east5/publishers/anthropic/models/${MODEL}:rawPredict`,
        { method: 'POST', headers: { authorization: `Bearer ${first ?? ''}` }, body: '{}' });
      expect(stale.status).toBe(401);
      expect(await stale.json()).toMatchObject({ error: { code: 401, status: 'UNAUTHENTICATED' } });
      const msg = await client.messages.create({ model: MODEL, max_tokens: 8, messages: hi });
      expect(msg.content).toEqual([{ type: 'text', text: GREETING }]);
      expect(short.tokenRequests.map((t) => t.ok)).toEqual([true, true]);
      expect(last(short).token).not.toBe(first);
      expect(last(short).token).toBe(await heldToken(a));
    } finally {
      await short.close();
    }
  });

  it('eagerRefreshThresholdMillis: 0 is ignored, so the 5 min default refetches a 60 s token on every call', async () => {
    const short = await VertexEmulator.start({ tokenTtlSeconds: 60 });
    try {
      const client = vertex({ target: short, googleAuth: googleAuth(short, short.serviceAccount(), { eagerRefreshThresholdMillis: 0 }) });
      await client.messages.create({ model: MODEL, max_tokens: 8, messages: hi });
      await client.messages.create({ model: MODEL, max_tokens: 8, messages: hi });
      expect(short.tokenRequests.length).toBe(2);
      expect(new Set(short.requests.map((r) => r.token)).size).toBe(2);
    } finally {
      await short.close();
    }
  });

  it('guards the front door like Vertex: auth, project, body shape, model, route', async () => {
    emu.enqueue({ kind: 'status', status: 500 });
    const token = await auth.getAccessToken();
    const models = `${emu.baseUrl}/projects/emu-project/locations/us-east5/publishers/anthropic/models`;
    const post = (url: string, body: unknown, bearer: string | null | undefined = token): Promise<Response> =>
      fetch(url, { method: 'POST', headers: bearer ? { authorization: `Bearer ${bearer}` } : {}, body: typeof body === 'string' ? body : JSON.stringify(body) });
    const ok = { max_tokens: 8, messages: hi, anthropic_version: 'vertex-2023-10-16' };
    const expectations: Array<[Promise<Response>, number, unknown]> = [
      [post(`${models}/${MODEL}:rawPredict`, ok, null), 401, { error: { code: 401, status: 'UNAUTHENTICATED' } }],
      [post(`${models}/${MODEL}:rawPredict`, ok, 'ya29.forged'), 401, { error: { status: 'UNAUTHENTICATED' } }],
      [post(`${models.replace('emu-project', 'other')}/${MODEL}:rawPredict`, ok), 403, { error: { code: 403, status: 'PERMISSION_DENIED' } }],
      [post(`${models}/${MODEL}:rawPredict`, '{"max_tokens":'), 400, { error: { code: 400, status: 'INVALID_ARGUMENT' } }],
      [post(`${models}/${MODEL}:rawPredict`, { ...ok, model: MODEL }), 400, { type: 'error', error: { type: 'invalid_request_error', message: 'model: Extra inputs are not permitted' } }],
      [post(`${models}/${MODEL}:rawPredict`, { ...ok, anthropic_version: undefined }), 400, { error: { message: 'anthropic_version: Field required' } }],
      [post(`${models}/${MODEL}:rawPredict`, { ...ok, anthropic_version: '2023-06-01' }), 400, { error: { type: 'invalid_request_error' } }],
      [post(`${models}/${MODEL}:streamRawPredict`, ok), 400, { error: { type: 'invalid_request_error' } }],
      [post(`${models}/${MODEL}:rawPredict`, { ...ok, stream: true }), 400, { error: { type: 'invalid_request_error' } }],
      [post(`${models}/count-tokens:rawPredict`, ok), 400, { error: { message: 'model: Field required' } }],
      [post(`${models}/gemini-2.5-pro:rawPredict`, ok), 404, { error: { code: 404, status: 'NOT_FOUND' } }],
    ];
    for (const [i, [pending, status, body]] of expectations.entries()) {
      const res = await pending;
      expect([i, res.status]).toEqual([i, status]);
      expect(await res.json()).toMatchObject(body as object);
    }
    const unauthenticated = await post(`${models}/${MODEL}:rawPredict`, ok, null);
    expect(unauthenticated.headers.get('www-authenticate')).toMatch(/^Bearer /);
    const route = await post(`${emu.baseUrl}/publishers/anthropic/models/${MODEL}:predict`, ok);
    expect([route.status, route.headers.get('content-type')]).toEqual([404, 'text/html; charset=UTF-8']);
    expect(last()).toMatchObject({ op: 'other', project: '', model: '' });
    // Nothing rejected at the front door consumed the queued script; Claude Code's body shape gets it.
    const cc = await post(`${models}/${MODEL}:streamRawPredict`, { ...ok, stream: true });
    expect(cc.status).toBe(500);
    expect(await cc.json()).toEqual({ error: { code: 500, message: 'Internal error encountered.', status: 'INTERNAL' } });
    const streamed = await post(`${models}/${MODEL}:streamRawPredict`, { ...ok, stream: true });
    expect(streamed.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(await streamed.text()).toContain('event: message_stop');
  });

  it('errorAfter, reset, stall and delay break streams the ways Vertex does', async () => {
    emu.enqueue({ kind: 'errorAfter', afterEvents: 4, error: { type: 'overloaded_error', message: 'Overloaded' } },
      { kind: 'reset' }, { kind: 'stall', afterEvents: 2 }, { kind: 'delay', ms: 2000, then: { kind: 'message' } });
    const midStream = await caught(vertex().messages.stream({ model: MODEL, max_tokens: 64, messages: hi }).finalMessage());
    expect(midStream).toBeInstanceOf(APIError);
    expect(midStream).toMatchObject({ type: 'overloaded_error', status: undefined });
    expect(sseEvents(last()).slice(-1)).toEqual(['error']);

    expect(await caught(vertex().messages.create({ model: MODEL, max_tokens: 8, messages: hi }))).toBeInstanceOf(APIConnectionError);
    expect(last().aborted).toBe(false);

    const ac = new AbortController();
    const stream = await vertex().messages.create({ model: MODEL, max_tokens: 8, messages: hi, stream: true }, { signal: ac.signal });
    expect(await typesUntilAbort(stream, ac, 'content_block_start')).toEqual(['message_start', 'content_block_start']);
    await expectClientAborted(last());

    const slow = caught(vertex({ timeout: 150 }).messages.create({ model: MODEL, max_tokens: 8, messages: hi }));
    await emu.waitForRequests(4);
    expect(await slow).toBeInstanceOf(APIConnectionTimeoutError);
    await expectClientAborted(last());
  });
});
