// What request logs keep of bodies, by workspace policy; and that a long Claude Code session,
// which re-sends its whole history every turn, grows storage linearly.
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let audit: string;
let plain: string;
let quiet: string;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(
    anthropicConfig(emu.url, {
      guardrails: { pii: { type: 'pii', kinds: ['email'], action: 'redact' } },
      workspaces: { audit: { log_bodies: 'full', guardrails: ['pii'] }, meta: { log_bodies: 'metadata' } },
    }),
    { TEST_ANTHROPIC_KEY: emu.apiKey },
  );
  audit = (await gw.createKey({ name: 'audit', workspace: 'audit' })).key;
  plain = (await gw.createKey({ name: 'plain', workspace: 'meta' })).key;
  quiet = (await gw.createKey({ name: 'quiet' })).key;
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
beforeEach(() => emu.reset());

const sdk = (key: string) => new Anthropic({ apiKey: key, baseURL: gw.url, maxRetries: 0 });
interface Bodies {
  summary: { request_bytes: number; response_bytes: number; messages: number; tools: string[]; content_blocks: Record<string, number> };
  request?: unknown;
  response?: string;
}
const bodiesOf = (traceId: string) => gw.admin<Bodies>('GET', `/api/admin/logs/${traceId}/bodies`);

/**
 * Bodies are stored just after the response is released (the row before it), so a reader may
 * need a moment on a networked database: this is what an admin fetching them a moment later sees.
 * Resolves with the first 200, or the last answer at the deadline.
 */
async function storedBodiesOf(traceId: string, deadlineMs = 5_000) {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const r = await bodiesOf(traceId);
    if (r.status !== 404 || Date.now() > until) return r;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function streamed(key: string, body: Anthropic.MessageCreateParamsNonStreaming) {
  const s = sdk(key).messages.stream(body);
  const { response } = await s.withResponse();
  await s.finalMessage();
  return response.headers.get('x-portkey-trace-id')!;
}

describe('body policies', () => {
  it('"full" keeps the request as forwarded (redacted) and the response as relayed', async () => {
    const body = { model: 'claude-sonnet-5-5', max_tokens: 32, system: 'You help ann@example.com.', tools: [{ name: 'Read', description: 'read', input_schema: { type: 'object' as const } }], messages: [{ role: 'user' as const, content: 'hi' }] };
    const id = await streamed(audit, body);
    const { status, body: kept } = await storedBodiesOf(id);
    expect(status).toBe(200);
    expect(kept.request).toEqual({ ...body, system: 'You help [REDACTED:email].', stream: true });
    expect(kept.response).toContain('event: message_start');
    expect(kept.response).toContain('event: message_stop');
    expect(kept.summary).toMatchObject({ messages: 1, tools: ['Read'], content_blocks: { text: 1 } });
    expect(kept.summary.response_bytes).toBe(Buffer.byteLength(kept.response!));
  });

  it('"metadata" keeps the shape only; "none" (the default) keeps nothing', async () => {
    const id = await streamed(plain, { model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: [{ type: 'text', text: 'secret plans' }] }] });
    const { body: kept } = await storedBodiesOf(id);
    expect(kept.request).toBeUndefined();
    expect(kept.response).toBeUndefined();
    expect(kept.summary).toMatchObject({ messages: 1, tools: [], content_blocks: { text: 1 } });
    expect(JSON.stringify(kept)).not.toContain('secret plans');
    const none = await streamed(quiet, { model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'x' }] });
    // Bodies are stored in request order: once a later request's are there, "none"'s would be too.
    const later = await streamed(plain, { model: 'claude-sonnet-5-5', max_tokens: 32, messages: [{ role: 'user', content: 'y' }] });
    expect((await storedBodiesOf(later)).status).toBe(200);
    expect((await bodiesOf(none)).status).toBe(404);
  });
});

describe('a 100-turn session', () => {
  it('grows body storage linearly while the requests grow quadratically', async () => {
    const system = [{ type: 'text' as const, text: 'You are a coding agent. '.repeat(400) }];
    const tools = Array.from({ length: 12 }, (_, i) => ({ name: `Tool${i}`, description: `Does thing ${i}. `.repeat(40), input_schema: { type: 'object' as const, properties: { path: { type: 'string' } } } }));
    const history: Anthropic.MessageParam[] = [];
    let sent = 0;
    const storedAt: number[] = [];
    const sentAt: number[] = [];
    for (let turn = 1; turn <= 100; turn++) {
      history.push({ role: 'user', content: [{ type: 'text', text: `Turn ${turn}: please change line ${turn} of the file. `.repeat(20) }] });
      const body = { model: 'claude-haiku-5-5', max_tokens: 16, system, tools, messages: history };
      sent += Buffer.byteLength(JSON.stringify(body));
      emu.enqueue({ kind: 'message', content: [{ type: 'text', text: `Done with turn ${turn}.` }] });
      const { data: reply, response } = await sdk(audit).messages.create(body).withResponse();
      history.push({ role: 'assistant', content: reply.content.map((c) => (c.type === 'text' ? { type: 'text' as const, text: c.text } : c)) as Anthropic.ContentBlockParam[] });
      if (turn === 50 || turn === 100) {
        // This turn's bodies are the last to be stored; measure once they are.
        expect((await storedBodiesOf(response.headers.get('x-portkey-trace-id')!)).status).toBe(200);
        storedAt.push(await gw.runtime.store.bodyBytes());
        sentAt.push(sent);
      }
    }
    const [stored50, stored100] = storedAt as [number, number];
    const [sent50, sent100] = sentAt as [number, number];
    // Requests: the second 50 turns send more than twice what the first 50 did (quadratic growth)...
    expect((sent100 - sent50) / sent50).toBeGreaterThan(2);
    // ...storage: the second 50 turns add no more than the first 50 did (linear growth)...
    expect((stored100 - stored50) / stored50).toBeLessThan(1.1);
    // ...and the whole session takes a small fraction of what was sent.
    expect(stored100 / sent100).toBeLessThan(0.05);
    // Every turn can still be read back whole.
    const last = (await gw.admin<{ data: Array<{ id: string }> }>('GET', '/api/admin/logs?limit=1')).body.data[0]!;
    const kept = (await storedBodiesOf(last.id)).body.request as { messages: unknown[] };
    expect(kept.messages).toHaveLength(199);
  }, 60_000);

  it('retention drops old rows and bodies and every block no body needs', async () => {
    const { store } = gw.runtime;
    const pruned = await store.pruneLogs(new Date(Date.now() + 60_000).toISOString());
    expect(pruned.logs).toBeGreaterThan(100);
    expect(pruned.blobs).toBeGreaterThan(100);
    expect(await store.bodyBytes()).toBe(0);
    expect((await gw.admin<{ data: unknown[] }>('GET', '/api/admin/logs')).body.data).toHaveLength(0);
  });
});
