// `gatehouse connect`, `disconnect` and `doctor` as real processes (the built CLI) against a real
// gateway with the Anthropic emulator behind it, each with its own HOME, git identity and project
// directory. Needs `npm run build` (`npm test` builds before vitest).
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { KeyWithSecret } from '../../gateway/src/api/schemas.js';
import type { Check } from '../../extension/src/core/index.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanup, cliEnv, makeTempDir, parseJsonOut, REPO_ROOT, runCli, type CliResult } from './harness.js';

const ONBOARDING = {
  metadata_template: { user: '', team: 'eng', env: 'dev' },
  models: { default: 'claude-sonnet-5-5', opus: 'claude-opus-5-5', sonnet: 'claude-sonnet-5-5', haiku: 'claude-haiku-5-5' },
  headers: {},
};

let emu: AnthropicEmulator;
let gw: TestGateway;
let key: KeyWithSecret;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { workspaces: { eng: { name: 'Engineering', onboarding: ONBOARDING } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
  key = await gw.createKey({ name: 'dev-laptop', workspace: 'eng', provider: '@anthropic', required_metadata: ['user'] });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(cleanup);

interface Dev {
  home: string;
  cwd: string;
  settings: string;
  run(args: string[], extraEnv?: Record<string, string>): Promise<CliResult>;
}

/** A developer machine: its own HOME (with a git identity), a project directory, no Anthropic or Claude variables. */
function developer(): Dev {
  const home = makeTempDir('home');
  const cwd = makeTempDir('proj');
  writeFileSync(join(home, '.gitconfig'), '[user]\n\temail = dev@example.com\n');
  const base = cliEnv();
  for (const k of Object.keys(base)) if (/^(ANTHROPIC_|CLAUDE_|GIT_|XDG_CONFIG_HOME$)/.test(k)) delete base[k];
  const env = { ...base, HOME: home, GIT_CONFIG_NOSYSTEM: '1', PATH: `${join(REPO_ROOT, 'node_modules', '.bin')}:${process.env.PATH ?? ''}` };
  return { home, cwd, settings: join(home, '.claude', 'settings.json'), run: (args, extra = {}) => runCli(args, { ...env, ...extra }, { cwd }) };
}

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`).toBe(0);
  return r;
}

interface Connected {
  status: string;
  file: string;
  backup: string;
  notes: string[];
  metadata: Record<string, string>;
  metadata_from: Record<string, string>;
}

describe('gatehouse connect', () => {
  it('writes every Claude Code setting from the profile, mode 0600, with a backup', async () => {
    const dev = developer();
    const r = parseJsonOut<Connected>(ok(await dev.run(['connect', '--gateway', `${gw.url}/v1/`, '--key', key.key, '--json'])));
    expect(r).toMatchObject({ status: 'written', file: dev.settings, metadata: { user: 'dev@example.com', team: 'eng', env: 'dev' }, metadata_from: { user: 'git', team: 'template' } });
    expect(r.notes.join(' ')).toMatch(/trailing slash.*Removed \/v1/);
    expect(JSON.parse(readFileSync(dev.settings, 'utf8'))).toEqual({
      env: {
        ANTHROPIC_BASE_URL: gw.url,
        ANTHROPIC_AUTH_TOKEN: key.key,
        ANTHROPIC_CUSTOM_HEADERS: 'x-portkey-metadata: {"user":"dev@example.com","team":"eng","env":"dev"}\nx-portkey-provider: @anthropic',
        ANTHROPIC_DEFAULT_OPUS_MODEL: 'claude-opus-5-5',
        ANTHROPIC_DEFAULT_SONNET_MODEL: 'claude-sonnet-5-5',
        ANTHROPIC_DEFAULT_HAIKU_MODEL: 'claude-haiku-5-5',
        CLAUDE_CODE_ENABLE_GATEWAY_MODEL_DISCOVERY: '1',
      },
      model: 'claude-sonnet-5-5',
    });
    expect(statSync(dev.settings).mode & 0o777).toBe(0o600);
    expect(existsSync(r.backup)).toBe(true);
    expect(readFileSync(r.backup, 'utf8')).not.toContain(key.key);
  });

  it('keeps an existing file, is idempotent, and disconnect restores the exact previous bytes', async () => {
    const dev = developer();
    mkdirSync(join(dev.home, '.claude'));
    const before = '{\n    // set by me\n    "theme": "dark",\n    "permissions": {"allow": ["Bash(ls:*)"]},\n    "env": {"ANTHROPIC_CUSTOM_HEADERS": "x-trace: mine"}\n}\n';
    writeFileSync(dev.settings, before, { mode: 0o644 });
    const first = ok(await dev.run(['connect', '--gateway', gw.url, '--key', key.key, '--yes']));
    expect(first.stdout).toContain(`Wrote ${dev.settings} (mode 0600)`);
    expect(first.stdout).toMatch(/Removed 1 comment.*disconnect restores them/);
    expect(first.stdout).toContain(`${key.key.slice(0, 10)}…`);
    expect(first.stdout).not.toContain(key.key);
    const written = readFileSync(dev.settings, 'utf8');
    expect(written).toMatch(/^{\n {4}"theme": "dark",\n {4}"permissions": {"allow": \["Bash\(ls:\*\)"\]},\n/);
    const s = JSON.parse(written) as { env: Record<string, string> };
    expect(s.env.ANTHROPIC_CUSTOM_HEADERS).toMatch(/\nx-trace: mine$/);

    const again = ok(await dev.run(['connect', '--gateway', gw.url, '--key', key.key, '--yes']));
    expect(again.stdout).toContain('Already connected');
    expect(readFileSync(dev.settings, 'utf8')).toBe(written);

    expect(ok(await dev.run(['disconnect'])).stdout).toContain('to exactly what it was before');
    expect(readFileSync(dev.settings, 'utf8')).toBe(before);
    expect(statSync(dev.settings).mode & 0o777).toBe(0o644);
    expect(ok(await dev.run(['disconnect'])).stdout).toContain('Nothing to undo');
  });

  it('project scope writes the gitignored settings.local.json, never the committed settings.json', async () => {
    const dev = developer();
    const r = ok(await dev.run(['connect', '--gateway', gw.url, '--key', key.key, '--scope', 'project', '--meta', 'user=ann@example.com']));
    expect(r.stdout).toContain('never the committed .claude/settings.json');
    expect(JSON.parse(readFileSync(join(dev.cwd, '.claude', 'settings.local.json'), 'utf8')).env.ANTHROPIC_CUSTOM_HEADERS).toContain('"user":"ann@example.com"');
    expect(existsSync(join(dev.cwd, '.claude', 'settings.json'))).toBe(false);
    expect(existsSync(dev.settings)).toBe(false);
    ok(await dev.run(['disconnect', '--scope', 'local']));
    expect(existsSync(join(dev.cwd, '.claude', 'settings.local.json'))).toBe(false);
  });

  it('a bad key: the troubleshooting words, exit 1, nothing written', async () => {
    const dev = developer();
    const r = await dev.run(['connect', '--gateway', gw.url, '--key', 'ghk_not_a_real_key_0000000000']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/401 Unauthorized: the key is not known to this gateway/);
    expect(r.stderr).toMatch(/fix: Check that you copied the whole key/);
    expect(existsSync(dev.settings)).toBe(false);
  });

  it('a required field with no value and no terminal to ask on: exit 2 naming the flag', async () => {
    const dev = developer();
    const strict = await gw.createKey({ name: 'strict', workspace: 'eng', required_metadata: ['cost_center'] });
    const r = await dev.run(['connect', '--gateway', gw.url, '--key', strict.key]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/"cost_center" is missing[\s\S]*--meta cost_center=VALUE/);
  });
});

describe('gatehouse doctor', () => {
  const checks = (r: CliResult): Record<string, Check> => Object.fromEntries(parseJsonOut<{ checks: Check[] }>(r).checks.map((c) => [c.name, c]));

  it('passes every check once connected', async () => {
    const dev = developer();
    ok(await dev.run(['connect', '--gateway', gw.url, '--key', key.key]));
    const r = await dev.run(['doctor', '--json']);
    const all = checks(r);
    expect(Object.values(all).filter((c) => c.status !== 'pass'), r.stdout).toEqual([]);
    expect(Object.keys(all)).toEqual(['gateway URL', 'network (DNS, connect, TLS)', 'key', 'models listed', 'streaming (SSE)', 'metadata', 'settings precedence', 'Claude Code']);
    expect(all['Claude Code']!.detail).toBe('Claude Code 2.1.330');
    expect(ok(await dev.run(['doctor'])).stdout).toMatch(/^PASS {2}streaming \(SSE\)/m);
  });

  it('fails the key check with a revoked key, and what overrides the settings', async () => {
    const dev = developer();
    const doomed = await gw.createKey({ name: 'doomed', workspace: 'eng' });
    ok(await dev.run(['connect', '--gateway', gw.url, '--key', doomed.key, '--meta', 'user=dev@example.com']));
    expect((await gw.admin('POST', `/api/admin/keys/${doomed.id}/revoke`)).status).toBe(200);
    const r = await dev.run(['doctor', '--json'], { ANTHROPIC_API_KEY: 'sk-ant-stale' });
    expect(r.code).toBe(1);
    const all = checks(r);
    expect(all.key).toMatchObject({ status: 'fail', detail: expect.stringMatching(/401 Unauthorized: the key was revoked/) });
    expect(all['models listed']!.status).toBe('skip');
    expect(all['settings precedence']).toMatchObject({ status: 'fail', detail: expect.stringMatching(/ANTHROPIC_API_KEY is set in your environment/) });
  });

  it('fails the streaming check through a proxy that buffers responses', async () => {
    const dev = developer();
    const proxy = await bufferingProxy(gw.url);
    try {
      const r = await dev.run(['doctor', '--gateway', proxy.url, '--key', key.key, '--json']);
      const sse = checks(r)['streaming (SSE)']!;
      expect(sse).toMatchObject({ status: 'fail', detail: expect.stringMatching(/arrived together.*buffers the stream/) });
      expect(sse.fix).toMatch(/corporate proxy/);
    } finally {
      await proxy.close();
    }
  });
});

/** A proxy that reads the whole answer before sending any of it, as some corporate proxies do. */
async function bufferingProxy(target: string): Promise<{ url: string; close(): Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const up = request(target + (req.url ?? '/'), { method: req.method, headers: { ...req.headers, host: new URL(target).host } }, (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (c: Buffer) => chunks.push(c));
      answer.on('end', () => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        res.end(Buffer.concat(chunks));
      });
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
