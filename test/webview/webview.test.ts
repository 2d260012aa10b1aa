import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildWebview } from '../../webview/build.mjs';
import type { HostMessage } from '../../webview/src/protocol.js';
import { entry, NOW, SESSION_A, SESSION_B, snapshot } from './fixtures.js';
import { serveWebview, type Harness, type Theme } from './harness.js';

/**
 * The log webview in a real Chromium, served with its production CSP. Messages arrive through
 * `window.postMessage`, as VS Code delivers them; assertions are on what a user sees.
 */

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = process.env.GATEHOUSE_SCREENSHOTS ?? path.join(os.tmpdir(), 'gatehouse-webview-shots');

let browser: Browser;
let harness: Harness;
let bundleDir: string;
const problems = new Map<Page, string[]>();

// Callbacks passed to page.evaluate run in the page, so each one reaches `window` through this cast.
type Win = { __posted: unknown[]; __csp: string[]; postMessage(m: unknown, target: string): void };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`The webview test needs Chromium at ${CHROMIUM} (apt-get install chromium); it is not skipped.`);
  bundleDir = await mkdtemp(path.join(os.tmpdir(), 'gatehouse-webview-'));
  await buildWebview({ outdir: bundleDir, minify: true });
  harness = await serveWebview(bundleDir);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  await mkdir(SHOTS, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await harness?.close();
  if (bundleDir) await rm(bundleDir, { recursive: true, force: true });
});

async function open(theme: Theme = 'dark'): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 720 }, timezoneId: 'Europe/Berlin', locale: 'en-US' });
  const page = await context.newPage();
  const seen: string[] = [];
  problems.set(page, seen);
  page.on('console', (m) => {
    if (m.type() === 'error') seen.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => seen.push(`page error: ${e.message}`));
  await page.clock.setFixedTime(new Date(NOW));
  await page.addInitScript(() => {
    const w = globalThis as unknown as { __csp: string[]; addEventListener(t: string, f: (e: { violatedDirective: string; blockedURI: string }) => void): void };
    w.__csp = [];
    w.addEventListener('securitypolicyviolation', (e) => w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  await page.goto(`${harness.origin}/?theme=${theme}`);
  await page.waitForFunction(() => (globalThis as unknown as Win).__posted.length > 0);
  return page;
}

async function send(page: Page, msg: HostMessage): Promise<void> {
  await page.evaluate((m) => (globalThis as unknown as Win).postMessage(m, '*'), msg);
}

const posted = (page: Page): Promise<unknown[]> => page.evaluate(() => (globalThis as unknown as Win).__posted);
const focusedId = (page: Page): Promise<string | null> =>
  page.evaluate(() => {
    const d = (globalThis as unknown as { document: { activeElement: { getAttribute(n: string): string | null } | null } }).document;
    return d.activeElement?.getAttribute('data-id') ?? null;
  });
const groupSummary = (page: Page, session: string | null) =>
  page.locator(`tbody.group-head[data-key="${session === null ? 'none' : `s:${session}`}"] .group-summary`);
const rowIds = (page: Page) => page.locator('tr.row').evaluateAll((trs) => trs.map((t) => (t as unknown as { dataset: { id: string } }).dataset.id));

async function expectClean(page: Page): Promise<void> {
  expect(await page.evaluate(() => (globalThis as unknown as Win).__csp)).toEqual([]);
  expect(problems.get(page)).toEqual([]);
}

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(SHOTS, name) });
}

describe('log webview in Chromium', () => {
  it('says ready, then shows sessions with their totals, the chart and the budgets', async () => {
    const page = await open();
    expect(await posted(page)).toEqual([{ type: 'ready' }]);
    await send(page, { type: 'snapshot', snapshot: snapshot() });
    await expect.poll(() => groupSummary(page, SESSION_A).textContent()).toBe('3 requests · 76.3K tokens · $0.0417 · 1 error');
    expect(await groupSummary(page, SESSION_B).textContent()).toBe('2 requests · 930 tokens · $0.0021 + 1 unpriced');
    expect(await groupSummary(page, null).textContent()).toBe('1 request · 150 tokens · $0.0000');
    expect(await page.locator('tbody.group-head:not(.running-head) .group-name').allTextContents()).toEqual(['Session a1b2c3d4', 'Session f9e8d7c6', 'No session']);
    expect(await rowIds(page)).toEqual(['req_a3', 'req_a2', 'req_a1', 'req_b2', 'req_b1', 'req_n1']);

    const a3 = page.locator('tr[data-id="req_a3"] td');
    expect(await a3.allTextContents()).toEqual(['14:20:05', 'claude-sonnet-4-5', '1,200', '350', '42,000', '1,800', '$0.0312', '4,210', '820', '200ok', 'pii · redact']);
    expect(await page.locator('tr[data-id="req_a2"] td.model').textContent()).toBe('claude-opus-4-1 → claude-sonnet-4-5');
    expect(await page.locator('tr[data-id="req_a2"] td.status.err').textContent()).toBe('529upstream failed');
    expect(await page.locator('tr[data-id="req_b1"] td.unpriced').textContent()).toBe('unpriced');

    expect(await page.locator('.conn-text').textContent()).toBe('Live — http://127.0.0.1:8787');
    expect(await page.locator('.stat').first().locator('.stat-value').textContent()).toBe('$0.0438 + 1 unpriced');
    expect(await page.locator('.budget .stat-value').allTextContents()).toEqual(['70%', '25%']);
    expect(await page.locator('.budget .stat-sub').first().textContent()).toBe('$3.50 of $5.00 ($0.40 held) · resets 00:00');

    const bars = page.locator('.chart-svg rect.bar');
    expect(await bars.count()).toBe(24);
    expect(Number(await bars.nth(14).getAttribute('height'))).toBeGreaterThan(0);
    expect(Number(await bars.nth(13).getAttribute('height'))).toBeGreaterThan(0);
    expect(Number(await bars.nth(9).getAttribute('height'))).toBe(0);
    expect(await bars.nth(14).getAttribute('aria-label')).toBe('14:00–15:00: $0.0417, 3 requests');
    expect(await page.locator('.chart-total').textContent()).toBe('$0.0438 + 1 unpriced · 6 requests');
    await expectClean(page);
    await page.context().close();
  });

  it('adds live rows at the top, and turns a running request into a finished one', async () => {
    const page = await open();
    await send(page, { type: 'snapshot', snapshot: snapshot() });
    await groupSummary(page, SESSION_A).waitFor();

    await send(page, { type: 'row', row: entry({ id: 'req_b3', created_at: '2025-03-04T13:29:00.000Z', session_id: SESSION_B, model: 'claude-haiku-4-5', served_model: 'claude-haiku-4-5', input_tokens: 70, cost_usd: 0.0009, latency_ms: 300 }) });
    await expect.poll(() => groupSummary(page, SESSION_B).textContent()).toBe('3 requests · 1K tokens · $0.0030 + 1 unpriced');
    expect((await rowIds(page))[0]).toBe('req_b3');
    expect(await page.locator('tbody.group-head:not(.running-head) .group-name').first().textContent()).toBe('Session f9e8d7c6');

    await send(page, { type: 'start', start: { id: 'req_a4', created_at: '2025-03-04T13:29:30.000Z', model: 'claude-sonnet-4-5', stream: true, endpoint: 'messages' } });
    const running = page.locator('tbody.running-rows tr[data-id="req_a4"]');
    await running.waitFor();
    expect(await running.locator('td.status').textContent()).toBe('running…');

    await send(page, { type: 'row', row: entry({ id: 'req_a4', created_at: '2025-03-04T13:29:30.000Z', input_tokens: 10, output_tokens: 20, cost_usd: 0.01, latency_ms: 800 }) });
    await expect.poll(() => groupSummary(page, SESSION_A).textContent()).toBe('4 requests · 76.3K tokens · $0.0517 · 1 error');
    expect(await page.locator('tr[data-id="req_a4"]').count()).toBe(1);
    expect(await page.locator('tbody.running-head').isHidden()).toBe(true);
    expect((await rowIds(page))[0]).toBe('req_a4');
    expect(await page.locator('tbody.group-head .badge-current:visible').count()).toBe(1);
    await expectClean(page);
    await page.context().close();
  });

  it('filters, keeps the filters across a reload, and is honest when offline', async () => {
    const page = await open();
    await send(page, { type: 'snapshot', snapshot: snapshot() });
    await groupSummary(page, SESSION_A).waitFor();
    await page.locator('.filter-text').fill('overloaded');
    await expect.poll(() => rowIds(page)).toEqual(['req_a2']);
    await page.locator('.filter-status').selectOption('errors');
    await expect.poll(() => rowIds(page)).toEqual(['req_a2']);
    expect(await groupSummary(page, SESSION_A).textContent()).toBe('1 request · 0 tokens · $0.0000 · 1 error');

    await page.reload();
    await page.waitForFunction(() => (globalThis as unknown as Win).__posted.length > 0);
    await send(page, { type: 'snapshot', snapshot: snapshot() });
    await expect.poll(() => rowIds(page)).toEqual(['req_a2']);
    expect(await page.locator('.filter-text').inputValue()).toBe('overloaded');
    expect(await page.locator('.filter-status').inputValue()).toBe('errors');

    await send(page, { type: 'connection', connection: { state: 'offline', since: '2025-03-04T13:25:00.000Z', reason: 'gateway unreachable (ECONNREFUSED)', retryInS: 30 } });
    await expect.poll(() => page.locator('.conn-text').textContent()).toBe(
      'Offline since 14:25 — gateway unreachable (ECONNREFUSED); retrying in 30s; showing the last known data',
    );
    expect(await page.locator('[aria-live="polite"]').textContent()).toContain('Offline since 14:25');
    await send(page, { type: 'connection', connection: { state: 'disconnected' } });
    await expect.poll(() => page.locator('.conn-text').textContent()).toBe('Not connected — run Gatehouse: Connect Claude Code');
    await expectClean(page);
    await page.context().close();
  });

  for (const theme of ['dark', 'light'] as const) {
    it(`opens the detail pane from the keyboard (${theme})`, async () => {
      const page = await open(theme);
      await send(page, { type: 'snapshot', snapshot: snapshot() });
      await groupSummary(page, SESSION_A).waitFor();
      await page.locator('tr[data-id="req_a3"]').focus();
      await page.keyboard.press('ArrowDown');
      expect(await focusedId(page)).toBe('req_a2');
      await page.keyboard.press('Enter');
      const pane = page.locator('aside.detail');
      await pane.waitFor();
      const text = (await pane.textContent()) ?? '';
      expect(text).toContain('config.targets[1]');
      expect(text).toContain('Overloaded: every target failed');
      expect(text).toContain('overloaded_error');
      await expect.poll(() => posted(page)).toContainEqual({ type: 'detail', id: 'req_a2' });
      expect(text).toContain('Loading the request and response summary');

      await send(page, {
        type: 'detail',
        id: 'req_a2',
        bodies: {
          request: { model: 'claude-opus-4-1', max_tokens: 8192, messages: [{ role: 'user', content: 'hi' }], tools: [{ name: 'Bash' }, { name: 'Read' }] },
          response: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } },
        },
      });
      await expect.poll(() => pane.locator('.detail-bodies').textContent()).toContain('Bash, Read');
      await shot(page, `webview-${theme}-detail.png`);
      if (theme === 'dark' && process.env.GATEHOUSE_UPDATE_DOCS_IMAGES === '1') {
        const docs = path.join(import.meta.dirname, '..', '..', 'docs', 'images');
        await mkdir(docs, { recursive: true });
        await page.screenshot({ path: path.join(docs, 'webview.png') });
      }

      if (theme === 'dark') {
        // A narrow panel (the side bar): the pane covers the table instead of squeezing it.
        await page.setViewportSize({ width: 560, height: 720 });
        await shot(page, 'webview-dark-narrow-detail.png');
        await page.setViewportSize({ width: 1280, height: 720 });
      }

      await page.keyboard.press('Escape');
      expect(await pane.isHidden()).toBe(true);
      expect(await focusedId(page)).toBe('req_a2');

      // A workspace that logs no bodies says so instead of showing an empty box.
      await page.keyboard.press('ArrowUp');
      await page.keyboard.press('Enter');
      await expect.poll(() => posted(page)).toContainEqual({ type: 'detail', id: 'req_a3' });
      await send(page, { type: 'detail', id: 'req_a3', bodies: null });
      await expect.poll(() => pane.textContent()).toContain('Bodies are not logged for this workspace');
      await shot(page, `webview-${theme}.png`);
      await expectClean(page);
      await page.context().close();
    });
  }

  // Speed is the benchmark's business; this checks the cap and that live rows still land at the top.
  it('renders a few thousand rows and caps the DOM', async () => {
    const page = await open();
    const many = Array.from({ length: 3000 }, (_, i) =>
      entry({ id: `r${String(i).padStart(5, '0')}`, created_at: new Date(Date.parse(NOW) - i * 2000).toISOString(), session_id: `s-${Math.floor(i / 250)}`, input_tokens: i, cost_usd: 0.001 }),
    );
    await send(page, { type: 'snapshot', snapshot: snapshot({ rows: many, currentSession: 's-0' }) });
    await expect.poll(() => page.locator('.table-note').textContent()).toContain('Showing the newest 2,000 of 3,000');
    expect(await page.locator('tr.row').count()).toBe(2000);
    await send(page, { type: 'row', row: entry({ id: 'newest', created_at: new Date(Date.parse(NOW) + 1000).toISOString(), session_id: 's-0', cost_usd: 0.001 }) });
    await expect.poll(async () => (await rowIds(page))[0]).toBe('newest');
    expect(await page.locator('tr.row').count()).toBe(2000);
    expect(await groupSummary(page, 's-0').textContent()).toContain('251 requests');
    await expectClean(page);
    await page.context().close();
    expect((await stat(path.join(bundleDir, 'main.js'))).size).toBeLessThan(60_000);
  });
});
