// The extension's live feed (extension/src/core/live-feed.ts) against a real gateway: a finished
// request arrives live and moves the spend summary; the gateway stops and the feed says offline;
// the gateway comes back on the same port and data and the feed is live again (it resumes with
// Last-Event-ID, or reloads on `reset` since this is a new run), with no row counted twice.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../gateway/src/config/load.js';
import { buildApp } from '../../gateway/src/server/app.js';
import { closeRuntime, createRuntime, type Runtime } from '../../gateway/src/server/runtime.js';
import { LiveFeed, type FeedEvent } from '../../extension/src/core/live-feed.js';
import { summarise } from '../../extension/src/core/spend-summary.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { ADMIN_KEY, anthropicConfig } from '../helpers/gateway.js';

let emu: AnthropicEmulator;
let dir: string;

/** A gateway on a chosen port and data directory (test/helpers' startGateway always takes a new port). */
async function startAt(port: number): Promise<{ url: string; close(): Promise<void> }> {
  const file = join(dir, 'gatehouse.jsonc');
  const runtime: Runtime = createRuntime({ file, dir, config: parseConfigText(JSON.stringify(anthropicConfig(emu.url)), file) }, { dataDir: dir, env: { GATEHOUSE_ADMIN_KEY: ADMIN_KEY, TEST_ANTHROPIC_KEY: emu.apiKey } });
  const { app, shutdown } = await buildApp(runtime, { logLevel: 'silent' });
  await (app as FastifyInstance).listen({ host: '127.0.0.1', port });
  const addr = app.server.address();
  if (addr === null || typeof addr !== 'object') throw new Error('gateway did not bind');
  return {
    url: `http://127.0.0.1:${addr.port}`,
    async close() {
      await shutdown(250);
      await closeRuntime(runtime);
    },
  };
}

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-feed-'));
});
afterAll(async () => {
  await emu?.close();
  rmSync(dir, { recursive: true, force: true });
});

async function ask(url: string, key: string, session: string): Promise<string> {
  const res = await fetch(`${url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', authorization: `Bearer ${key}`, 'x-claude-code-session-id': session },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 16, messages: [{ role: 'user', content: 'hi' }] }),
  });
  await res.text();
  expect(res.status).toBe(200);
  return res.headers.get('x-portkey-trace-id')!;
}

async function until<T>(what: string, probe: () => T | undefined | false, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('live feed against a real gateway', () => {
  it('follows requests live, goes offline when the gateway stops, and comes back without double counting', async () => {
    let gw = await startAt(0);
    const port = Number(new URL(gw.url).port);
    const made = await fetch(`${gw.url}/api/admin/keys`, { method: 'POST', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'feed', budget_usd: 5, budget_period: 'day' }) });
    const { key } = (await made.json()) as { key: string };
    const before = await ask(gw.url, key, 'sess-1');

    // The Last-Event-ID header of each stream request ('' for none).
    const streamCalls: string[] = [];
    const fetchSpy = (url: string, init?: RequestInit) => {
      if (url.endsWith('/api/me/events')) streamCalls.push((init?.headers as Record<string, string>)['last-event-id'] ?? '');
      return fetch(url, init);
    };
    const feed = new LiveFeed({ gateway: gw.url, key, fetch: fetchSpy, backoffS: [0.1, 0.2, 0.3] });
    const events: FeedEvent[] = [];
    feed.onEvent((e) => events.push(e));
    const th = { warnAt: 0.8, errorAt: 1 };
    try {
      feed.start();
      await until('live', () => feed.connection.state === 'live');
      expect(feed.rows().map((r) => r.id)).toEqual([before]);
      const first = summarise(feed.rows(), feed.budgets(), feed.currentSession(), new Date(), th);
      expect(first.today.requests).toBe(1);

      const live = await ask(gw.url, key, 'sess-2');
      await until('the live row', () => feed.rowCount === 2);
      await until('the spend event', () => events.some((e) => e.type === 'budgets'));
      const after = summarise(feed.rows(), feed.budgets(), feed.currentSession(), new Date(), th);
      expect(after.today.requests).toBe(2);
      expect(after.today.usd).toBeGreaterThan(first.today.usd);
      expect(after.session).toMatchObject({ id: 'sess-2', requests: 1 });
      expect(feed.budgets()[0]!.spent).toBeCloseTo(after.today.usd, 9);
      expect(feed.rows()[0]!.id).toBe(live);

      await gw.close();
      const off = await until('offline', () => (feed.connection.state === 'offline' ? feed.connection : undefined));
      expect(off.reason).toMatch(/closed the live stream|Connection refused|503/);
      await until('a failed retry', () => feed.connection.state === 'offline' && /Connection refused/.test(feed.connection.reason));
      expect(feed.rowCount).toBe(2); // the last-known figures stay

      const calls = streamCalls.length;
      gw = await startAt(port);
      await until('live again', () => feed.connection.state === 'live');
      // It asked to resume where it was. (A gateway in a new process answers that with `reset` and
      // the feed reloads; in this process the id counter carries on, so it simply resumes.)
      expect(streamCalls.slice(calls).at(-1)).toMatch(/^\d+$/);
      const third = await ask(gw.url, key, 'sess-2');
      await until('the row after the restart', () => feed.rows().some((r) => r.id === third));
      const rows = feed.rows();
      expect(rows.map((r) => r.id)).toEqual([third, live, before]);
      expect(new Set(rows.map((r) => r.id)).size).toBe(rows.length);
      const end = summarise(rows, feed.budgets(), feed.currentSession(), new Date(), th);
      expect(end.today.requests).toBe(3);
      expect(end.session).toMatchObject({ id: 'sess-2', requests: 2 });
    } finally {
      await feed.stop();
      await gw.close().catch(() => undefined);
    }
    expect(feed.connection).toEqual({ state: 'disconnected' });
  });
});
