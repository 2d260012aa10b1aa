// The extension inside a real VS Code (code-server 4.100.3 = VS Code 1.100.3): the in-host suite
// (test/vscode/suite) runs in the extension host against a real gateway on loopback, with a
// throw-away HOME whose ~/.claude/settings.json already holds a developer's own settings.
// Needs `npm run build` (it bundles the extension and the suite into dist/).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import type { TestGateway } from '../helpers/gateway.js';
import { ensureCodeServer, installVsix, makeDirs, makeHome, packageVsix, removeDirs, ROOT, startCodeServer, type CodeServerDirs, type RunningCodeServer } from './code-server.js';
import { startPlatformGateway, type PlatformGateway } from './platform-gateway.js';
import { launchBrowser, runInHost } from './workbench.js';

const SUITE = join(ROOT, 'dist/test/vscode/suite/index.js');
// Declares Claude Code for VS Code's two settings (the real extension is not on npm), so writing them is accepted as it would be.
const CLAUDE_CODE_STANDIN = join(ROOT, 'test/vscode/fixtures/claude-code-standin');
// The developer's own settings, comments and all: connect must keep them, disconnect restore them byte for byte.
const BEFORE = `{
  // my own settings
  "permissions": { "allow": ["Bash(npm test)"] },
  "env": { "KEEP_ME": "1" }
}
`;

let platform: PlatformGateway;
let gw: TestGateway;
let key: KeyWithSecret;
let dirs: CodeServerDirs;
let cs: RunningCodeServer;
let browser: Browser;
let scratch: string;
let home: string;
let folder: string;

beforeAll(async () => {
  ensureCodeServer();
  if (!existsSync(SUITE)) throw new Error(`${SUITE} is missing: run npm run build first`);
  ({ gw, key } = platform = await startPlatformGateway('vscode-laptop', 50));
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-vscode-host-'));
  home = makeHome(scratch);
  mkdirSync(join(home, '.claude'));
  writeFileSync(join(home, '.claude/settings.json'), BEFORE);
  folder = join(scratch, 'project');
  mkdirSync(folder);
  dirs = makeDirs();
  expect(installVsix(dirs, packageVsix(CLAUDE_CODE_STANDIN, join(scratch, 'claude-code-standin.vsix')))).toContain('anthropic.claude-code@0.0.0');
  cs = await startCodeServer(dirs, { HOME: home, GATEHOUSE_TEST_GATEWAY: gw.url, GATEHOUSE_TEST_KEY: key.key, GIT_CONFIG_NOSYSTEM: '1' });
  browser = await launchBrowser();
}, 600_000);

afterAll(async () => {
  await browser?.close();
  await cs?.close();
  if (dirs) removeDirs(dirs);
  await platform?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe('the extension in VS Code 1.100 (code-server)', () => {
  it('passes the in-host suite: activate, connect, live status bar, log view, verify, disconnect', async () => {
    const run = await runInHost(browser, cs.url, { folder, extensionDevelopmentPath: ROOT, extensionTestsPath: SUITE });
    const report = run.console.filter((l) => !/^\[(Extension Host|.*?)\] (?:\[\d|DEBUG)/.test(l)).join('\n');
    expect(run.code, `in-host run ended with ${run.code}\n${report}\n--- code-server ---\n${cs.output().slice(-4000)}`).toBe(0);
    // mocha's report came from the host (the console shows its format string and arguments).
    expect(report).toMatch(/passing.*\b6\b/);
    expect(report).not.toMatch(/failing/);
    // And from outside the host: the developer's file is as it was.
    expect(readFileSync(join(home, '.claude/settings.json'), 'utf8')).toBe(BEFORE);
    // The gateway saw the host's requests under the developer's key, attributed.
    const logs = await gw.admin<{ data: Array<{ key_id: string; metadata: Record<string, string>; session_id: string | null }> }>('GET', `/api/admin/logs?key_id=${key.id}`);
    const messages = logs.body.data.filter((r) => r.session_id === '11111111-2222-4333-8444-555555555555');
    expect(messages.length).toBe(2);
    expect(messages[0]?.metadata).toMatchObject({ user: 'host-test@example.com' });
  }, 300_000);
});
