// Debian's Chromium, through playwright-core, showing code-server's workbench: for the in-host
// test run (the workbench hands the payload's tests to the extension host and reports their exit
// code through window.codeAutomationExit) and for person's-eye UI checks.
import { resolve } from 'node:path';
import { chromium, type Browser, type Frame, type Page } from 'playwright-core';
import { CHROMIUM } from './code-server.js';

// The background-networking flags keep Chromium from dialling Google on a closed network.
const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage', '--disable-quic'];

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
}

export interface WorkbenchOptions {
  folder: string;
  /** For the in-host test run: the extension under development and the tests module. */
  extensionDevelopmentPath?: string;
  extensionTestsPath?: string;
}

export function workbenchUrl(base: string, o: WorkbenchOptions): string {
  const authority = new URL(base).host;
  const params = new URLSearchParams({ folder: resolve(o.folder) });
  if (o.extensionDevelopmentPath && o.extensionTestsPath) {
    const payload = [
      // One development path only: the workbench keeps the last one it is given.
      ['extensionDevelopmentPath', `vscode-remote://${authority}${resolve(o.extensionDevelopmentPath)}`],
      ['extensionTestsPath', `vscode-remote://${authority}${resolve(o.extensionTestsPath)}`],
    ];
    params.set('payload', JSON.stringify(payload));
  }
  return `${base}/?${params.toString()}`;
}

export interface HostRun {
  code: number | 'timeout';
  /** What the extension host's console printed (mocha's report among it). */
  console: string[];
}

/** Runs the tests module inside the extension host and waits for its exit code. */
export async function runInHost(browser: Browser, base: string, o: Required<WorkbenchOptions>, timeoutMs = 240_000): Promise<HostRun> {
  const page = await browser.newPage();
  const lines: string[] = [];
  page.on('console', (m) => lines.push(m.text()));
  let done: (code: number) => void = () => undefined;
  const exited = new Promise<number>((r) => (done = r));
  await page.exposeFunction('codeAutomationExit', (code: number) => done(code));
  await page.goto(workbenchUrl(base, o));
  let timer: NodeJS.Timeout | undefined;
  const code = await Promise.race([exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
  clearTimeout(timer);
  await page.close();
  return { code, console: lines };
}

/** Opens the workbench on a folder and waits until the status bar is drawn. */
export async function openWorkbench(browser: Browser, base: string, folder: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 860 } });
  await page.goto(workbenchUrl(base, { folder }));
  await page.locator('.statusbar').waitFor({ timeout: 60_000 });
  return page;
}

/** Runs a command from the palette by its title, as a person would (F1, type, Enter). */
export async function runCommand(page: Page, title: string): Promise<void> {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ timeout: 15_000 });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-list .monaco-list-row', { hasText: title }).first().waitFor({ timeout: 15_000 });
  await page.keyboard.press('Enter');
}

/** Answers the open input box (URL, key, a metadata field) and confirms it. */
export async function answerInput(page: Page, value: string, expectPrompt?: RegExp): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  await widget.waitFor({ state: 'visible', timeout: 15_000 });
  if (expectPrompt) await page.locator('.quick-input-widget', { hasText: expectPrompt }).waitFor({ timeout: 15_000 });
  const input = page.locator('.quick-input-widget input');
  await input.fill(value);
  await page.keyboard.press('Enter');
}

/** Picks an item of the open quick pick by its label. */
export async function pick(page: Page, label: string | RegExp): Promise<void> {
  const row = page.locator('.quick-input-list .monaco-list-row', { hasText: label }).first();
  await row.waitFor({ timeout: 15_000 });
  await row.click();
}

/** The webview's own document: a nested iframe, found by a selector only the app renders. */
export async function webviewFrame(page: Page, selector: string, timeoutMs = 30_000): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    for (const f of page.frames()) {
      if (f === page.mainFrame()) continue;
      const found = await f.locator(selector).count().catch(() => 0);
      if (found > 0) return f;
    }
    if (Date.now() > deadline) throw new Error(`no webview frame shows ${selector}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
