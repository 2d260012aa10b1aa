// Runs inside VS Code's extension host (code-server), with the real `vscode` API, against a real
// gateway on loopback whose URL and key the vitest driver passes in the environment. HOME is the
// driver's throw-away home, so ~/.claude/settings.json is the test's own file.
import { strict as assert } from 'node:assert';
import { readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { GatehouseTestApi } from '../../../extension/src/api.js';

const EXT_ID = 'gatehouse.gatehouse';
const env = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: the driver (test/vscode/extension-host.test.ts) passes it`);
  return v;
};
const settingsFile = () => join(homedir(), '.claude', 'settings.json');

let api: GatehouseTestApi;
let before = '';

async function until<T>(what: string, probe: () => T | undefined | false, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** One real request through the gateway with the developer's key, as Claude Code would send it. */
async function sendMessage(session: string): Promise<void> {
  const res = await fetch(`${env('GATEHOUSE_TEST_GATEWAY')}/v1/messages`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${env('GATEHOUSE_TEST_KEY')}`,
      'content-type': 'application/json',
      'anthropic-version': '2023-06-01',
      'x-claude-code-session-id': session,
      'x-portkey-metadata': JSON.stringify({ user: 'host-test@example.com' }),
    },
    body: JSON.stringify({ model: 'claude-sonnet-5-5', max_tokens: 64, messages: [{ role: 'user', content: 'hi' }] }),
  });
  assert.equal(res.status, 200, await res.text());
  await res.arrayBuffer().catch(() => undefined);
}

export const hostTests: Array<[string, () => Promise<void>]> = [
  [
    'activates on startup and offers to connect',
    async () => {
      const ext = vscode.extensions.getExtension<GatehouseTestApi>(EXT_ID);
      assert.ok(ext, `${EXT_ID} is not installed in the host`);
      api = await ext.activate();
      assert.equal(vscode.version.split('.').slice(0, 2).join('.'), '1.100');
      const commands = await vscode.commands.getCommands(true);
      for (const c of ['gatehouse.connect', 'gatehouse.disconnect', 'gatehouse.verify', 'gatehouse.copySetup', 'gatehouse.showLogs']) assert.ok(commands.includes(c), `command ${c} missing`);
      const bar = api.statusBar();
      assert.match(bar.text, /Connect Claude Code/);
      assert.equal(bar.command, 'gatehouse.connect');
      before = readFileSync(settingsFile(), 'utf8');
    },
  ],
  [
    'Connect Claude Code writes the settings file in place and the Claude Code extension settings',
    async () => {
      // The URL as a person might paste it: with /v1 and a trailing slash, which connect corrects.
      const result = await vscode.commands.executeCommand('gatehouse.connect', {
        gatewayUrl: `${env('GATEHOUSE_TEST_GATEWAY')}/v1/`,
        key: env('GATEHOUSE_TEST_KEY'),
        scope: 'user',
        metadata: { user: 'host-test@example.com' },
        yes: true,
      });
      assert.ok(result, 'connect returned nothing');
      const text = readFileSync(settingsFile(), 'utf8');
      const written = JSON.parse(text) as { env: Record<string, string>; permissions?: unknown; model?: string };
      assert.equal(written.env.ANTHROPIC_BASE_URL, env('GATEHOUSE_TEST_GATEWAY'));
      assert.equal(written.env.ANTHROPIC_AUTH_TOKEN, env('GATEHOUSE_TEST_KEY'));
      assert.match(written.env.ANTHROPIC_CUSTOM_HEADERS ?? '', /^x-portkey-metadata: \{.*"user":"host-test@example\.com".*\}$/m);
      assert.equal(written.env.ANTHROPIC_DEFAULT_SONNET_MODEL, 'claude-sonnet-5-5');
      // What was there before is kept: the developer's own permissions block and env entry.
      assert.deepEqual(written.permissions, { allow: ['Bash(npm test)'] });
      assert.equal(written.env.KEEP_ME, '1');
      assert.equal(statSync(settingsFile()).mode & 0o777, 0o600);
      const cc = vscode.workspace.getConfiguration('claudeCode');
      const vars = cc.get<Array<{ name: string; value: string }>>('environmentVariables') ?? [];
      assert.equal(vars.find((v) => v.name === 'ANTHROPIC_BASE_URL')?.value, env('GATEHOUSE_TEST_GATEWAY'));
      assert.equal(cc.get('disableLoginPrompt'), true);
      // Running it again changes nothing.
      await vscode.commands.executeCommand('gatehouse.connect', { gatewayUrl: env('GATEHOUSE_TEST_GATEWAY'), key: env('GATEHOUSE_TEST_KEY'), scope: 'user', metadata: { user: 'host-test@example.com' }, yes: true });
      assert.equal(readFileSync(settingsFile(), 'utf8'), text);
    },
  ],
  [
    'the status bar goes live and follows the spend of real requests',
    async () => {
      await until('the live feed', () => api.feed().connection.state === 'live');
      assert.equal(api.statusBar().command, 'gatehouse.showLogs');
      const rows = api.feed().rows;
      await sendMessage('11111111-2222-4333-8444-555555555555');
      await until('the finished request in the feed', () => api.feed().rows > rows);
      const bar = await until('spend in the status bar', () => {
        const b = api.statusBar();
        return /\$0\.0\d*[1-9]/.test(b.text) ? b : undefined;
      });
      assert.match(bar.text, /today/);
      assert.match(bar.text, /session/);
      assert.match(bar.tooltip, /budget/i);
    },
  ],
  [
    'the log view opens and shows the requests live',
    async () => {
      await vscode.commands.executeCommand('gatehouse.showLogs');
      const view = await until('the log view to get its snapshot', () => {
        const v = api.logView();
        return v.open && v.posted.some((m) => m.type === 'snapshot') ? v : undefined;
      });
      const snap = view.posted.find((m) => m.type === 'snapshot');
      assert.ok(snap && snap.type === 'snapshot' && snap.snapshot.rows.length >= 1, 'the snapshot has the request');
      const tab = vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputWebview);
      assert.ok(tab, 'no webview tab');
      assert.match(tab.label, /Gatehouse/);
      await sendMessage('11111111-2222-4333-8444-555555555555');
      await until('the live row in the view', () => api.logView().posted.some((m) => m.type === 'row'));
    },
  ],
  [
    'Verify Connection passes every check against the live gateway',
    async () => {
      const checks = await vscode.commands.executeCommand<Array<{ status: string; title?: string; name?: string }>>('gatehouse.verify');
      assert.ok(Array.isArray(checks) && checks.length >= 5, 'verify returned its checks');
      const failed = checks.filter((c) => c.status === 'fail');
      assert.deepEqual(failed, [], `failed checks: ${JSON.stringify(failed)}`);
    },
  ],
  [
    'Disconnect restores exactly what was there before',
    async () => {
      await vscode.commands.executeCommand('gatehouse.disconnect');
      assert.equal(readFileSync(settingsFile(), 'utf8'), before);
      const cc = vscode.workspace.getConfiguration('claudeCode');
      assert.equal(cc.inspect('environmentVariables')?.globalValue, undefined);
      assert.equal(cc.inspect('disableLoginPrompt')?.globalValue, undefined);
      await until('the status bar to offer connecting again', () => /Connect Claude Code/.test(api.statusBar().text));
    },
  ],
];
