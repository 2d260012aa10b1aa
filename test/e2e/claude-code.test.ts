// The real Claude Code CLI (`claude -p`, pinned 2.1.330) against a real gateway with the Anthropic
// emulator behind it: what a user of Claude Code sees through Gatehouse, and what reaches Anthropic.
// Each run gets a fresh HOME and working directory, a fully specified environment (nothing leaks in
// from the machine), stdin closed, and a hard time limit.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator, type RecordedRequest } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { claudeRunner, eventsOf, expectExit, resultOf, type ClaudeRun, type RunOptions } from './claude-runner.js';

const GREETING = 'Hello from the Anthropic emulator.';
const TEST_TIMEOUT_MS = 60_000;

let emu: AnthropicEmulator;
let gw: TestGateway;
let scratch: string;
let launch: (args: string[], opts: RunOptions) => Promise<ClaudeRun>;
const runClaude = (args: string[], opts: Omit<RunOptions, 'baseUrl'> & { baseUrl?: string }) => launch(args, { ...opts, baseUrl: opts.baseUrl ?? gw.url });

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url), { TEST_ANTHROPIC_KEY: emu.apiKey });
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-cc-e2e-'));
  launch = claudeRunner(scratch);
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});
beforeEach(() => emu.reset());

/** Counts the POSTs to /v1/messages that reach the gateway itself (refused ones included). */
function countMessagePosts(): { count: number; stop(): void } {
  const counter = { count: 0, stop: () => gw.app.server.off('request', onRequest) };
  const onRequest = (req: { method?: string; url?: string }) => {
    if (req.method === 'POST' && req.url?.startsWith('/v1/messages')) counter.count++;
  };
  gw.app.server.on('request', onRequest);
  return counter;
}

function messagePosts(): RecordedRequest[] {
  return emu.requests.filter((q) => q.method === 'POST' && q.path === '/v1/messages');
}

function header(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v.join(', ') : v;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function blocksOf(body: unknown): Array<Record<string, unknown>> {
  if (!isRecord(body) || !Array.isArray(body.messages)) return [];
  return body.messages.flatMap((m: unknown) => (isRecord(m) && Array.isArray(m.content) ? m.content.filter(isRecord) : []));
}

// --- A transparent recorder between claude and the gateway --------------------------------------
// Only the tests that compare "what claude sent" with "what the emulator got" use it: it keeps the
// exact request bytes and headers claude produced, then relays everything to the gateway unchanged.

interface Tapped {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

interface Tap {
  url: string;
  requests: Tapped[];
  close(): Promise<void>;
}

async function startTap(targetUrl: string): Promise<Tap> {
  const target = new URL(targetUrl);
  const requests: Tapped[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers, body });
      const up = httpRequest(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      up.end(body);
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((ok) => {
      server.closeAllConnections();
      server.close(() => ok());
    }),
  };
}

describe('Claude Code CLI through Gatehouse', () => {
  it('answers `claude -p "say hi"` and relays the exact request with the provider credential', async () => {
    const { key } = await gw.createKey({ name: 'cc-say-hi' });
    const tap = await startTap(gw.url);
    let run: ClaudeRun;
    try {
      run = await runClaude(['-p', 'say hi', '--output-format', 'json'], { token: key, baseUrl: tap.url });
    } finally {
      await tap.close();
    }
    expectExit(run, true);
    const out = resultOf(run);
    expect(out).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: GREETING });

    // What claude sent (to the gateway) ...
    const sent = tap.requests.filter((q) => q.method === 'POST' && q.url.split('?')[0] === '/v1/messages');
    expect(sent).toHaveLength(1);
    const fromClaude = sent[0] as Tapped;
    expect(header(fromClaude.headers, 'authorization')).toBe(`Bearer ${key}`);

    // ... and what reached Anthropic: one request, the same bytes, the provider's key instead of ours.
    expect(emu.requests).toHaveLength(1);
    const got = emu.requests[0] as RecordedRequest;
    expect(got.method).toBe('POST');
    expect(got.path).toBe('/v1/messages');
    // The query Claude Code sent (`?beta=true`) reaches the provider as sent.
    expect(got.url).toBe(fromClaude.url);
    expect(header(got.headers, 'x-api-key')).toBe(emu.apiKey);
    expect(got.headers.authorization).toBeUndefined();
    for (const [name, value] of Object.entries(got.headers)) {
      expect(String(value), `header ${name} carries the Gatehouse key`).not.toContain(key);
    }

    expect(header(got.headers, 'anthropic-version')).toBe('2023-06-01');
    const beta = header(got.headers, 'anthropic-beta');
    expect(beta).toBe(header(fromClaude.headers, 'anthropic-beta'));
    expect(beta?.split(',')).toContain('claude-code-20250219');
    expect(header(got.headers, 'x-app')).toBe('cli');
    const sessionId = header(got.headers, 'x-claude-code-session-id');
    expect(sessionId).toBe(header(fromClaude.headers, 'x-claude-code-session-id'));
    expect(sessionId).toBe(out.session_id);
    expect(header(got.headers, 'user-agent')).toBe(header(fromClaude.headers, 'user-agent'));

    expect(got.body.equals(fromClaude.body), 'the emulator got the bytes claude sent').toBe(true);
    expect(got.json).toEqual(JSON.parse(fromClaude.body.toString('utf8')));
    expect(got.json).toMatchObject({ stream: true, system: expect.any(Array), tools: expect.any(Array), metadata: { user_id: expect.any(String) } });
    const body = got.json as { tools: Array<{ name?: unknown }>; metadata: { user_id: string } };
    expect(body.tools.map((t) => t.name)).toContain('Bash');
    expect(body.metadata.user_id).toContain(String(sessionId));
  }, TEST_TIMEOUT_MS);

  it('runs a Bash tool round trip: the file is written and the tool result goes back upstream', async () => {
    const { key } = await gw.createKey({ name: 'cc-tool' });
    const input = { command: 'echo gatehouse-tool-ok > out.txt; cat out.txt', description: 'write file' };
    const run = await runClaude(
      ['-p', `EMU_TOOL Bash ${JSON.stringify(input)}`, '--allowedTools', 'Bash', '--output-format', 'stream-json', '--verbose'],
      { token: key },
    );
    expectExit(run, true);

    const outFile = join(run.cwd, 'out.txt');
    expect(existsSync(outFile), 'out.txt in the working directory').toBe(true);
    expect(readFileSync(outFile, 'utf8').trim()).toBe('gatehouse-tool-ok');

    const events = eventsOf(run);
    const final = events[events.length - 1];
    expect(final).toMatchObject({ type: 'result', subtype: 'success', is_error: false, result: 'tool result: gatehouse-tool-ok' });

    const posts = messagePosts();
    expect(posts).toHaveLength(2);
    for (const p of posts) expect(header(p.headers, 'x-api-key')).toBe(emu.apiKey);
    const toolUse = blocksOf(posts[1]?.json).find((b) => b.type === 'tool_use' && b.name === 'Bash');
    const toolResult = blocksOf(posts[1]?.json).find((b) => b.type === 'tool_result');
    expect(toolUse?.input).toEqual(input);
    expect(toolResult).toMatchObject({ tool_use_id: toolUse?.id, is_error: false });
    expect(JSON.stringify(toolResult?.content)).toContain('gatehouse-tool-ok');
    expect(blocksOf(posts[0]?.json).some((b) => b.type === 'tool_result')).toBe(false);
  }, TEST_TIMEOUT_MS);

  it('forwards ANTHROPIC_CUSTOM_HEADERS but never the gateway controls (x-portkey-*)', async () => {
    const { key } = await gw.createKey({ name: 'cc-headers' });
    const tap = await startTap(gw.url);
    let run: ClaudeRun;
    try {
      run = await runClaude(['-p', 'say hi', '--output-format', 'json'], {
        token: key,
        baseUrl: tap.url,
        env: { ANTHROPIC_CUSTOM_HEADERS: 'x-portkey-metadata: {"team":"eng"}\nx-trace: t1' },
      });
    } finally {
      await tap.close();
    }
    expectExit(run, true);
    expect(resultOf(run)).toMatchObject({ is_error: false, result: GREETING });

    // Claude really sent both ...
    const sent = tap.requests.find((q) => q.method === 'POST' && q.url.split('?')[0] === '/v1/messages');
    expect(header(sent?.headers ?? {}, 'x-portkey-metadata')).toBe('{"team":"eng"}');
    expect(header(sent?.headers ?? {}, 'x-trace')).toBe('t1');

    // ... and only the end-to-end one reached Anthropic.
    const posts = messagePosts();
    expect(posts).toHaveLength(1);
    const got = posts[0] as RecordedRequest;
    expect(header(got.headers, 'x-trace')).toBe('t1');
    expect(got.headers['x-portkey-metadata']).toBeUndefined();
    expect(Object.keys(got.headers).filter((h) => h.startsWith('x-portkey-'))).toEqual([]);
  }, TEST_TIMEOUT_MS);

  it('shows the gateway\'s 401 for a revoked key and exits non-zero, without calling Anthropic', async () => {
    const created = await gw.createKey({ name: 'cc-revoked' });
    const revoked = await gw.admin<{ status: string }>('POST', `/api/admin/keys/${encodeURIComponent(created.id)}/revoke`, {});
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('revoked');

    const run = await runClaude(['-p', 'say hi', '--output-format', 'json'], { token: created.key, maxRetries: 0 });
    expectExit(run, false);
    const out = resultOf(run);
    expect(out).toMatchObject({ type: 'result', is_error: true, api_error_status: 401 });
    expect(String(out.result)).toMatch(/401/);
    expect(String(out.result)).toMatch(/revoked/);
    expect(String(out.result)).toContain(created.prefix);
    expect(String(out.result)).not.toContain(created.key);
    expect(emu.requests).toHaveLength(0);

    // The plain text a user reads in a terminal says the same.
    const text = await runClaude(['-p', 'say hi'], { token: created.key, maxRetries: 0 });
    expectExit(text, false);
    expect(text.stdout + text.stderr).toMatch(/401[^\n]*revoked/);
    expect(emu.requests).toHaveLength(0);
  }, TEST_TIMEOUT_MS);

  it('shows an exhausted budget (429, the budget, spend and reset) once, with retries allowed, and no retry storm', async () => {
    const created = await gw.createKey({ name: 'cc-budget', budget_usd: 0.0001, budget_period: 'day' });
    // One answer spends the budget (~$0.0003 at Opus 5.5 prices)...
    emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'spent' }], usage: { input_tokens: 20, output_tokens: 12 } });
    const spend = await fetch(`${gw.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': created.key },
      body: JSON.stringify({ model: 'claude-opus-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
    });
    expect(spend.status).toBe(200);
    await spend.text();
    emu.reset();

    // ...then Claude Code, allowed 5 retries, is refused once and shows why.
    const posts = countMessagePosts();
    try {
      const run = await runClaude(['-p', 'say hi', '--output-format', 'json'], { token: created.key, env: { CLAUDE_CODE_MAX_RETRIES: '5' } });
      expectExit(run, false);
      const out = resultOf(run);
      expect(out).toMatchObject({ type: 'result', is_error: true, api_error_status: 429 });
      expect(String(out.result)).toMatch(/Budget exhausted: key "cc-budget" has used \$0\.000\d+ of its \$0\.0001 daily budget\. It resets at \S+ \(UTC, in /);
      expect(posts.count).toBe(1);
      expect(emu.requests).toHaveLength(0);
    } finally {
      posts.stop();
    }
  }, TEST_TIMEOUT_MS);

  it('shows a budget that runs out mid-stream, and stops after at most one more request', async () => {
    // Room for the request to start, not for its input: the stream is ended after message_start.
    const created = await gw.createKey({ name: 'cc-midstream', budget_usd: 0.0001, budget_period: 'day' });
    const posts = countMessagePosts();
    try {
      const run = await runClaude(['-p', 'say hi', '--output-format', 'json'], { token: created.key, env: { CLAUDE_CODE_MAX_RETRIES: '5' } });
      expectExit(run, false);
      const out = resultOf(run);
      expect(out).toMatchObject({ type: 'result', is_error: true });
      expect(String(out.result)).toMatch(/Budget exhausted: key "cc-midstream" has used/);
      expect(posts.count).toBeGreaterThanOrEqual(1);
      expect(posts.count).toBeLessThanOrEqual(2);
      expect(messagePosts().length).toBe(1);
    } finally {
      posts.stop();
    }
  }, TEST_TIMEOUT_MS);

  it('reports an upstream 529 as overloaded and exits non-zero', async () => {
    const { key } = await gw.createKey({ name: 'cc-overloaded' });
    // CLAUDE_CODE_MAX_RETRIES=1 allows at most 2 attempts; queue more 529s than that.
    emu.enqueue(...Array.from({ length: 4 }, () => ({ kind: 'status' as const, status: 529 })));
    const run = await runClaude(['-p', 'say hi', '--output-format', 'json'], { token: key, maxRetries: 1 });
    expectExit(run, false);
    const out = resultOf(run);
    expect(out).toMatchObject({ type: 'result', is_error: true, api_error_status: 529, api_error_type: 'overloaded_error' });
    expect(String(out.result)).toMatch(/529/);
    expect(String(out.result)).toMatch(/overloaded/i);

    // Claude's own retry shows up as a second attempt; every attempt got the relayed 529.
    const posts = messagePosts();
    expect(posts.length).toBeGreaterThanOrEqual(2);
    expect(posts.length).toBeLessThanOrEqual(4);
    for (const p of posts) {
      expect(header(p.headers, 'x-api-key')).toBe(emu.apiKey);
      expect(JSON.parse(p.responseBytes.toString('utf8'))).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    }
  }, TEST_TIMEOUT_MS);
});
