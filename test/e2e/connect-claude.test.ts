// The whole onboarding path with the real tools: `gatehouse connect` (the built CLI) writes a fresh
// HOME's ~/.claude/settings.json, then the pinned Claude Code CLI runs with that HOME and no
// ANTHROPIC_* variable at all, so the settings file alone must bring it to the gateway, with the
// key, the metadata from the admin's template and the model the profile names.
// Needs `npm run build` (`npm test` builds before vitest).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import { cleanup, cliEnv, runCli } from '../cli/harness.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { describeRun, expectExit, resultOf, runClaudeWithSettings } from './claude-runner.js';

let emu: AnthropicEmulator;
let gw: TestGateway;
let key: KeyWithSecret;
let scratch: string;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  const onboarding = {
    metadata_template: { user: '', team: 'platform', env: 'e2e' },
    models: { default: 'claude-sonnet-5-5', opus: 'claude-opus-5-5', sonnet: 'claude-sonnet-5-5', haiku: 'claude-haiku-5-5' },
  };
  gw = await startGateway(anthropicConfig(emu.url, { workspaces: { platform: { name: 'Platform', onboarding } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
  key = await gw.createKey({ name: 'e2e-laptop', workspace: 'platform', required_metadata: ['user'] });
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-connect-e2e-'));
});
afterAll(async () => {
  await cleanup();
  await gw?.close();
  await emu?.close();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** The gateway writes log rows in batches off the request path: wait for the row to land. */
async function logRowFor(keyId: string, timeoutMs = 10_000): Promise<LogRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await gw.admin<{ data: LogRow[] }>('GET', `/api/admin/logs?key_id=${keyId}`);
    const row = r.body.data?.find((l) => l.key_id === keyId && l.endpoint === 'messages');
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`no messages log row for ${keyId}: ${JSON.stringify(r.body)}`);
    await new Promise((res) => setTimeout(res, 100));
  }
}

describe('gatehouse connect, then the real Claude Code', () => {
  it('claude -p reaches the gateway from the written settings alone, with the template metadata', async () => {
    const home = mkdtempSync(join(scratch, 'home-'));
    writeFileSync(join(home, '.gitconfig'), '[user]\n\temail = e2e-dev@example.com\n');
    const env = cliEnv({ HOME: home, GIT_CONFIG_NOSYSTEM: '1' });
    for (const k of Object.keys(env)) if (/^(ANTHROPIC_|CLAUDE_|GIT_CONFIG_GLOBAL$|XDG_CONFIG_HOME$)/.test(k)) delete env[k];
    const connected = await runCli(['connect', '--gateway', `${gw.url}/`, '--key', key.key, '--yes'], env, { cwd: scratch });
    expect(connected.code, `${connected.stdout}\n${connected.stderr}`).toBe(0);

    const run = await runClaudeWithSettings(scratch, ['-p', 'say hi', '--output-format', 'json'], { home });
    expectExit(run, true);
    expect(resultOf(run).is_error, describeRun(run)).toBe(false);

    const row = await logRowFor(key.id);
    expect(row).toMatchObject({
      status: 200,
      workspace: 'platform',
      model: 'claude-sonnet-5-5',
      metadata: { user: 'e2e-dev@example.com', team: 'platform', env: 'e2e' },
    });
    expect(row.session_id).toMatch(/^[0-9a-f-]{36}$/);
    // What reached Anthropic: the gateway's own credential, never the developer's key.
    const post = emu.requests.find((q) => q.method === 'POST' && q.path === '/v1/messages');
    expect(JSON.stringify(post?.headers)).not.toContain(key.key);
  });
});
