// The developer's whole path, as a person sees it in a real VS Code (code-server 4.100.3) in
// Chromium: the packaged .vsix installed, "Gatehouse: Connect Claude Code" run from the command
// palette and answered, then the real Claude Code CLI (pinned) run with nothing but the written
// settings; the gateway logs the request with the template metadata, and the status bar and the
// log view show it. Screenshots go to $GATEHOUSE_SCREENSHOTS (default: a temp folder); with
// GATEHOUSE_UPDATE_DOCS_IMAGES=1 the README's images in docs/images are refreshed.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { describeRun, expectExit, resultOf, runClaudeWithSettings } from '../e2e/claude-runner.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ensureCodeServer, installVsix, makeDirs, makeHome, packageVsix, removeDirs, ROOT, startCodeServer, type CodeServerDirs, type RunningCodeServer } from './code-server.js';
import { startPlatformGateway, type PlatformGateway } from './platform-gateway.js';
import { answerInput, launchBrowser, openWorkbench, pick, runCommand, webviewFrame } from './workbench.js';

const SHOTS = process.env.GATEHOUSE_SCREENSHOTS ?? join(tmpdir(), 'gatehouse-vscode-shots');
const EMAIL = 'ui-dev@example.com';

let platform: PlatformGateway;
let gw: TestGateway;
let key: KeyWithSecret;
let dirs: CodeServerDirs;
let cs: RunningCodeServer;
let browser: Browser;
let page: Page;
let scratch: string;
let home: string;
let folder: string;
let vsix: string;

async function shot(name: string, docsName?: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, name);
  await page.screenshot({ path: file });
  if (docsName && process.env.GATEHOUSE_UPDATE_DOCS_IMAGES === '1') copyFileSync(file, join(ROOT, 'docs/images', docsName));
}

const statusItem = () => page.locator('.statusbar-item[id*="gatehouse"], .statusbar-item', { hasText: /Connect Claude Code|today|Gatehouse/ }).first();

beforeAll(async () => {
  ensureCodeServer();
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-ui-'));
  // The packaged extension, as a developer gets it (npm run package does the same).
  vsix = join(scratch, 'gatehouse.vsix');
  packageVsix(ROOT, vsix);

  ({ gw, key } = platform = await startPlatformGateway('ui-laptop', 0.5));
  home = makeHome(scratch, EMAIL);
  folder = join(scratch, 'project');
  mkdirSync(folder);
  // A warning threshold the first request crosses, to see the status bar take the warning colour.
  dirs = makeDirs({ 'gatehouse.statusBar.warnAt': 0.03 });
  const listed = installVsix(dirs, vsix);
  expect(listed).toContain('gatehouse.gatehouse@');
  cs = await startCodeServer(dirs, { HOME: home, GIT_CONFIG_NOSYSTEM: '1' });
  browser = await launchBrowser();
  page = await openWorkbench(browser, cs.url, folder);
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await cs?.close();
  if (dirs) removeDirs(dirs);
  await platform?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('a developer in VS Code', () => {
  it('installs the .vsix and connects Claude Code from the command palette', async () => {
    expect(statSync(vsix).size).toBeLessThan(200_000);
    await expect.poll(() => statusItem().innerText(), { timeout: 30_000 }).toMatch(/Connect Claude Code/);
    await runCommand(page, 'Gatehouse: Connect Claude Code');
    // Pasted as a person might: with /v1 and a slash, which connect corrects and says so.
    await answerInput(page, `${gw.url}/v1/`, /gateway URL/);
    await answerInput(page, key.key, /key/i);
    // What the admin set up, in a modal, before anything is written.
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 15_000 });
    expect(await dialog.innerText()).toMatch(/Platform/);
    await dialog.locator('.monaco-button', { hasText: 'Continue' }).click();
    await pick(page, 'User');
    await expect.poll(() => page.locator('.notifications-toasts').innerText(), { timeout: 20_000 }).toMatch(/connected/i);
    const settings = JSON.parse(readFileSync(join(home, '.claude/settings.json'), 'utf8')) as { env: Record<string, string> };
    expect(settings.env.ANTHROPIC_BASE_URL).toBe(gw.url);
    expect(settings.env.ANTHROPIC_AUTH_TOKEN).toBe(key.key);
    expect(settings.env.ANTHROPIC_CUSTOM_HEADERS).toContain(`"user":"${EMAIL}"`);
    await expect.poll(() => statusItem().innerText(), { timeout: 30_000 }).toMatch(/today/);
    // Nothing spent yet: no warning colour.
    expect(await statusItem().getAttribute('class')).not.toContain('warning-kind');
    await shot('vscode-connected.png');
  });

  it('Claude Code runs through the written settings; the status bar and the log view show the request', async () => {
    const run = await runClaudeWithSettings(scratch, ['-p', 'say hi', '--output-format', 'json'], { home });
    expectExit(run, true);
    expect(resultOf(run).is_error, describeRun(run)).toBe(false);
    let row: LogRow | undefined;
    await expect
      .poll(async () => {
        const r = await gw.admin<{ data: LogRow[] }>('GET', `/api/admin/logs?key_id=${key.id}`);
        row = r.body.data.find((l) => l.endpoint === 'messages' && l.status === 200);
        return row !== undefined;
      }, { timeout: 15_000 })
      .toBe(true);
    expect(row?.metadata).toMatchObject({ user: EMAIL, team: 'platform' });
    const session = row?.session_id ?? '';
    expect(session).toMatch(/^[0-9a-f-]{36}$/);

    // The status bar follows: money spent today, in this session, and a share of the $0.50 budget.
    await expect.poll(() => statusItem().innerText(), { timeout: 20_000 }).toMatch(/\$0\.\d*[1-9].*today.*session.*\d+%/);
    // Past gatehouse.statusBar.warnAt (3 % here): VS Code draws the item in the warning colour.
    expect(await statusItem().getAttribute('class')).toContain('warning-kind');
    await statusItem().click();
    const frame = await webviewFrame(page, 'tr.row');
    await expect.poll(() => frame.locator('tr.row').count(), { timeout: 15_000 }).toBeGreaterThan(0);
    const text = await frame.locator('body').innerText();
    expect(text).toContain(session.slice(0, 8));
    expect(text).toMatch(/claude-sonnet-5-5/);
    await shot('vscode-log-view.png', 'vscode-log-view.png');
  });
});
