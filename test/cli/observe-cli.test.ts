// `gatehouse logs | usage | workspaces | budgets | configs | checklist` as real processes (the
// built CLI) against a real gateway listening on a loopback port, in front of the Anthropic emulator.
// Needs the built CLI (`npm run build`; `npm test` builds before vitest).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BudgetView } from '../../gateway/src/api/schemas.js';
import type { Check } from '../../gateway/src/cli/checklist-checks.js';
import type { WorkspaceView } from '../../gateway/src/cli/workspaces.js';
import type { LogRow } from '../../gateway/src/observe/log-row.js';
import type { ConfigEntry } from '../../gateway/src/routing/registry.js';
import type { AnalyticsRow } from '../../gateway/src/store/types.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { ADMIN_KEY, anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanup, cliEnv, closedPort, makeTempDir, parseJsonOut, runCli, writeConfig, type CliResult } from './harness.js';

const HAIKU = 'claude-haiku-5-5';
// Haiku 5.5 per million tokens: $0.10 in, $0.50 out (model-catalog.ts).
const cost = (input: number, output: number): number => (input * 0.1 + output * 0.5) / 1e6;

type Page = { data: LogRow[]; next_cursor: string | null };

let emu: AnthropicEmulator;
let gw: TestGateway;

/** One provider, the emulator; workspace "support" has a secrets guardrail, a budget and full body logs; elsewhere no bodies are kept. */
const CONFIG = (upstream: string) =>
  anthropicConfig(upstream, {
    guardrails: { 'no-secrets': { type: 'secrets', action: 'deny' } },
    workspaces: { support: { name: 'Support', guardrails: ['no-secrets'], budget: { usd: 50, period: 'month' }, limits: { rpm: 600 }, log_bodies: 'full' } },
    logs: { bodies: 'none' },
  });

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(CONFIG(emu.url), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(cleanup);

/** `gatehouse <args>` with GATEHOUSE_URL and GATEHOUSE_ADMIN_KEY pointing at `url` (the shared gateway by default). */
const cli = (args: string[], url = gw.url): Promise<CliResult> => runCli(args, cliEnv({ GATEHOUSE_URL: url, GATEHOUSE_ADMIN_KEY: ADMIN_KEY }));

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`).toBe(0);
  return r;
}
/** What a successful `--json` command printed; a successful command's stdout. */
const json = async <T>(args: string[], url?: string): Promise<T> => parseJsonOut<T>(ok(await cli(args, url)));
const out = async (args: string[]): Promise<string> => ok(await cli(args)).stdout;
/** The command fails with exit 1 and says why on stderr. */
async function refused(args: string[], message: RegExp): Promise<void> {
  const r = await cli(args);
  expect(r.code, `${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(1);
  expect(r.stderr).toMatch(message);
}

/** One request through the gateway with the key; the emulator answers with this usage. */
async function send(key: string, metadata: Record<string, string>, usage: { input_tokens: number; output_tokens: number }): Promise<void> {
  emu.enqueue({ kind: 'message', content: [{ type: 'text', text: 'ok' }], usage });
  const headers = { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': key, 'x-portkey-metadata': JSON.stringify(metadata) };
  const res = await fetch(`${gw.url}/v1/messages`, { method: 'POST', headers, body: JSON.stringify({ model: HAIKU, max_tokens: 8, messages: [{ role: 'user', content: 'hi' }] }) });
  expect(res.status, await res.text()).toBe(200);
}

describe('logs, usage, workspaces and budgets', () => {
  let support: string;

  beforeAll(async () => {
    const s = await gw.createKey({ name: 'support-bot', workspace: 'support', metadata: { team: 'support' } });
    const e = await gw.createKey({ name: 'eng-laptop', metadata: { team: 'eng' } });
    support = s.id;
    await send(s.key, { env: 'prod', user: 'ann' }, { input_tokens: 100, output_tokens: 20 });
    await send(s.key, { env: 'prod', user: 'bob' }, { input_tokens: 300, output_tokens: 40 });
    await send(s.key, { env: 'dev' }, { input_tokens: 50, output_tokens: 5 });
    await send(e.key, { env: 'prod' }, { input_tokens: 1000, output_tokens: 200 });
  });

  it('logs --json filters on several metadata fields; the table shows what people look for', async () => {
    const { data, next_cursor } = await json<Page>(['logs', '--meta', 'team=support', '--meta', 'env=prod', '--json']);
    expect([data.length, next_cursor]).toEqual([2, null]);
    for (const r of data) expect(r).toMatchObject({ key_id: support, workspace: 'support', provider: 'anthropic', served_model: HAIKU, status: 200, metadata: { team: 'support', env: 'prod' } });
    expect(data.map((r) => `${r.metadata.user}:${r.input_tokens}`).sort()).toEqual(['ann:100', 'bob:300']);

    const table = await out(['logs', '--meta', 'team=support', '--meta', 'env=prod']);
    const lines = table.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+ID\s+KEY\s+MODEL\s+PROVIDER\s+STATUS\s+TOKENS in\/out\s+COST\s+LATENCY\s+METADATA$/);
    expect(lines).toHaveLength(3);
    const ann = lines.find((l) => l.includes(data.find((r) => r.metadata.user === 'ann')!.id));
    expect(ann, table).toMatch(/\bsupport-bot\s+claude-haiku-5-5\s+@anthropic\s+200\s+100\/20\s+\$0\.00002\s+\d+ ms\s+.*team=support/);
    expect(ann).toContain('user=ann');

    // Other filters, relative times, paging.
    expect((await json<Page>(['logs', '--key', support, '--status', '200', '--since', '1h', '--json'])).data).toHaveLength(3);
    expect(await out(['logs', '--until', '1h'])).toBe('No requests match.\n');
    const page = await json<Page>(['logs', '--workspace', 'support', '--limit', '2', '--json']);
    expect([page.data.length, page.next_cursor === null]).toEqual([2, false]);
    expect(await out(['logs', '--workspace', 'support', '--limit', '2'])).toMatch(/add --all for every match/);
    const all = await json<Page>(['logs', '--workspace', 'support', '--limit', '2', '--all', '--json']);
    expect([new Set(all.data.map((r) => r.id)).size, all.next_cursor]).toEqual([3, null]);
  });

  it('logs show prints one row, and its bodies when the workspace keeps them', async () => {
    const id = (await json<Page>(['logs', '--meta', 'user=bob', '--json'])).data[0]!.id;
    expect(await json<LogRow>(['logs', 'show', id, '--json'])).toEqual((await gw.admin<LogRow>('GET', `/api/admin/logs/${id}`)).body);
    const human = await out(['logs', 'show', id, '--bodies']);
    for (const line of [`^Log:\\s+${id}$`, '^Provider:\\s+@anthropic, request-id req_emu_', '^Tokens:\\s+300 in, 40 out, 0 cache read, 0 cache write$', '^Metadata:\\s+.*user=bob', '^Request:\\n\\{\\n\\s+"model": "claude-haiku-5-5"']) {
      expect(human).toMatch(new RegExp(line, 'm'));
    }
    expect((await json<{ bodies: { summary: { messages: number } } }>(['logs', 'show', id, '--bodies', '--json'])).bodies.summary.messages).toBe(1);

    // Where no bodies are kept, that is said, not an error.
    const eng = (await json<Page>(['logs', '--meta', 'team=eng', '--json'])).data[0]!;
    expect(await out(['logs', 'show', eng.id, '--bodies'])).toMatch(/^Bodies:\s+none kept \(the workspace's log_bodies policy is "none"\)\.$/m);
    expect((await json<{ bodies: unknown }>(['logs', 'show', eng.id, '--bodies', '--json'])).bodies).toBeNull();
    await refused(['logs', 'show', 'req_nope'], /404: Log req_nope was not found/);
  });

  it('usage groups by metadata.team with the right sums, and totals them', async () => {
    const a = await json<{ data: AnalyticsRow[]; group_by: string[] }>(['usage', '--group-by', 'metadata.team', '--since', '1h', '--json']);
    expect(a.group_by).toEqual(['metadata.team']);
    const team = (t: string) => a.data.find((r) => r.group['metadata.team'] === t);
    expect(team('support')).toMatchObject({ requests: 3, errors: 0, input_tokens: 450, output_tokens: 65 });
    expect(team('support')!.cost_usd).toBeCloseTo(cost(450, 65), 12);
    expect(team('eng')).toMatchObject({ requests: 1, input_tokens: 1000, output_tokens: 200 });

    const t = await out(['usage', '--group-by', 'metadata.team', '--meta', 'env=prod']);
    expect(t).toMatch(/^TEAM\s+REQUESTS\s+ERRORS\s+COST\s+INPUT\s+OUTPUT\s+CACHE READ\s+CACHE WRITE\s+P50\s+P95$/m);
    expect(t).toMatch(/^support\s+2\s+0\s+\$0\.00007\s+400\s+60\s+0\s+0\s+\d+ ms\s+\d+ ms$/m);
    expect(t).toMatch(/^eng\s+1\s+0\s+\$0\.0002\s+1,000\s+200\s/m);
    expect(t).toMatch(/^TOTAL\s+3\s+0\s+\$0\.00027\s+1,400\s+260\s+0\s+0$/m);
    expect(await out(['usage', '--group-by', 'model,metadata.env', '--bucket', 'hour'])).toMatch(/^HOUR\s+MODEL\s+ENV\s+REQUESTS/m);
    // The gateway's own refusal, as it words it.
    await refused(['usage', '--group-by', 'colour'], /^gatehouse: 400: group_by: unknown dimension "colour"/);
  });

  it('workspaces and budgets show policy and where spend stands', async () => {
    const ws = (await json<{ data: WorkspaceView[] }>(['workspaces', '--json'])).data;
    expect(ws.map((w) => w.id).sort()).toEqual(['default', 'support']);
    expect(ws.find((w) => w.id === 'support')).toMatchObject({ name: 'Support', source: 'file', guardrails: ['no-secrets'], limits: { rpm: 600 } });
    const table = await out(['workspaces', 'list']);
    expect(table).toMatch(/^ID\s+NAME\s+SOURCE\s+PROVIDERS\s+MODELS\s+CONFIG\s+LIMITS\s+PER USER\s+GUARDRAILS\s+BUDGET$/m);
    expect(table).toMatch(/^support\s+Support\s+file\s+any\s+any\s+-\s+600 rpm\s+-\s+no-secrets\s+\$0\.00\d+ of \$50\.00\/month$/m);

    const budgets = (await json<{ data: BudgetView[] }>(['budgets', '--workspace', 'support', '--json'])).data;
    expect(budgets).toMatchObject([{ label: 'workspace "support"', unit: 'usd', limit: 50, period: 'month' }]);
    expect(budgets[0]!.spent).toBeCloseTo(cost(450, 65), 12);
    const bt = await out(['budgets', '--workspace', 'support']);
    expect(bt).toMatch(/^BUDGET\s+PERIOD\s+SPENT\s+IN FLIGHT\s+LIMIT\s+REMAINING\s+USED\s+RESETS$/m);
    expect(bt).toMatch(/^workspace "support"\s+month\s+\$0\.0000\d+\s+\$0\s+\$50\.00\s+\$50\.00\s+0%\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/m);
  });
});

describe('configs', () => {
  it('puts a config from a JSONC file, lists, shows and deletes it', async () => {
    const file = writeConfig(makeTempDir('configs'), '// support routing\n{ "strategy": { "mode": "fallback" }, "targets": [{ "provider": "@anthropic" }, { "provider": "@anthropic", "retry": { "attempts": 2 } },], }\n', 'support.jsonc');
    const put = ['configs', 'put', 'support-fallback', '--file', file, '--workspace', 'support'];
    expect(await json<ConfigEntry>([...put, '--json'])).toMatchObject({ id: 'support-fallback', source: 'api', workspace: 'support', config: { strategy: { mode: 'fallback' } } });
    expect(await out(put)).toMatch(/^Saved config support-fallback for workspace "support": fallback: @anthropic → @anthropic\.$/m);

    const list = await out(['configs', 'list']);
    expect(list).toMatch(/^ID\s+SOURCE\s+WORKSPACE\s+ROUTE$/m);
    expect(list).toMatch(/^support-fallback\s+api\s+support\s+fallback: @anthropic → @anthropic$/m);
    expect((await json<{ data: ConfigEntry[] }>(['configs', 'list', '--workspace', 'default', '--json'])).data).toEqual([]);
    expect(await out(['configs', 'show', 'support-fallback'])).toMatch(/^Config support-fallback \(kept through the admin API, workspace "support" only\):\n\{/);

    expect(await json(['configs', 'delete', 'support-fallback', '--json'])).toEqual({ id: 'support-fallback', deleted: true });
    expect(await out(['configs', 'list'])).toMatch(/^No routing configs/);
    await refused(['configs', 'delete', 'support-fallback'], /404: Config support-fallback was not found/);
  });

  it('names the line of a broken file and the gateway\'s objection to a bad config', async () => {
    const dir = makeTempDir('configs');
    await refused(['configs', 'put', 'x', '--file', writeConfig(dir, '{\n  "provider": "@anthropic"\n  "cache": "simple"\n}', 'broken.json')], /broken\.json is not valid JSON: line 3, column 3/);
    await refused(['configs', 'put', 'x', '--file', writeConfig(dir, { provider: '@bedrock' }, 'bad.json')], /400: config\.provider: @bedrock is not a provider of this gateway/);
    await refused(['configs', 'put', 'x'], /configs put needs --file FILE/);
  });
});

describe('checklist', () => {
  it('passes every check for a key in a workspace with a secrets guardrail, and exits 0', async () => {
    const k = await gw.createKey({ name: 'launch', workspace: 'support', required_metadata: ['user', 'team'], metadata: { team: 'support' } });
    const r = await out(['checklist', '--key', k.key]);
    for (const name of ['the gateway answers', 'the key authenticates', 'the request is in the logs', 'budgets and rate limits']) expect(r).toMatch(new RegExp(`^PASS {2}${name}`, 'm'));
    expect(r).toMatch(/^PASS {2}a real request succeeds\s+200 in \d+ ms: @anthropic answered as claude-haiku-5-5$/m);
    expect(r).toMatch(/^PASS {2}a guardrail triggers on a canary\s+a fake AWS key was denied \(400\): .*no-secrets/m);
    expect(r).toMatch(/^Ready: every check passed\.$/m);
    expect(r).not.toContain(k.key);

    // Both requests are in the logs under the marker, with the placeholder the key required.
    const marker = /marker (chk_[0-9a-f]+)/.exec(r)?.[1];
    const { data } = await json<Page>(['logs', '--meta', `checklist=${marker}`, '--json']);
    expect(data.map((row) => row.status).sort()).toEqual([200, 400]);
    expect(data[0]!.metadata).toMatchObject({ team: 'support', user: 'gatehouse-checklist', checklist: marker });

    const again = await json<{ checks: Check[] }>(['checklist', '--key', k.key, '--meta', 'user=ann', '--json']);
    expect(again.checks.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'pass', 'pass', 'pass']);
  });

  it('warns (exit 0) when the workspace has no guardrail', async () => {
    const k = await gw.createKey({ name: 'plain' });
    const { checks } = await json<{ checks: Check[] }>(['checklist', '--key', k.key, '--json']);
    expect(checks[4]).toMatchObject({ name: 'a guardrail triggers on a canary', status: 'skip', detail: 'SKIP: no guardrail on workspace default', fix: expect.stringContaining('"type": "secrets"') });
    expect(checks[5]).toMatchObject({ status: 'skip', detail: expect.stringMatching(/no budget or rate limit/) });
    expect(checks.filter((c) => c.status === 'fail')).toEqual([]);
  });

  it('fails with the provider named, and exits 1, when the provider cannot be reached', async () => {
    const down = await startGateway(CONFIG(`http://127.0.0.1:${await closedPort()}`), { TEST_ANTHROPIC_KEY: 'sk-ant-unused' });
    try {
      const k = await down.createKey({ name: 'launch', workspace: 'support' });
      const r = await cli(['checklist', '--key', k.key], down.url);
      expect(r.code, r.stdout + r.stderr).toBe(1);
      expect(r.stdout).toMatch(/^PASS {2}the key authenticates/m);
      expect(r.stdout).toMatch(/^FAIL {2}a real request succeeds\s+the gateway answered 502 \(upstream_unreachable\) for claude-haiku-5-5$/m);
      expect(r.stdout).toMatch(/^ {6}fix: Provider @anthropic \(http:\/\/127\.0\.0\.1:\d+\) could not be reached: .*check its base_url/m);
      // The failed request is still logged; the guardrail denies before any provider is asked.
      expect(r.stdout).toMatch(/^PASS {2}the request is in the logs\s+log \S+ with metadata .*\(status 502/m);
      expect(r.stdout).toMatch(/^PASS {2}a guardrail triggers on a canary/m);
      expect(r.stdout).toMatch(/^1 check failed\.$/m);
    } finally {
      await down.close();
    }
  });

  it('stops at the first check when no gateway answers, at the second for a revoked key; names the admin key', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const r = await cli(['checklist', '--key', 'ghk_whatever', '--json'], url);
    expect(r.code).toBe(1);
    const { checks } = parseJsonOut<{ checks: Check[] }>(r);
    expect(checks[0]).toMatchObject({ status: 'fail', detail: expect.stringContaining(`cannot reach the gateway at ${url}`) });
    expect(checks.slice(1).map((c) => c.detail)).toEqual(Array(5).fill('not run: the gateway did not answer'));

    const k = await gw.createKey({ name: 'gone' });
    await gw.admin('POST', `/api/admin/keys/${k.id}/revoke`);
    const revoked = await cli(['checklist', '--key', k.key]);
    expect(revoked.code).toBe(1);
    expect(revoked.stdout).toMatch(/^FAIL {2}the key authenticates\s+GET \/api\/me answered 401: .*revoked/m);
    expect(revoked.stdout).toMatch(/^SKIP {2}a real request succeeds\s+not run: the key did not authenticate$/m);

    // A wrong GATEHOUSE_ADMIN_KEY: the key's checks pass, the log lookups say what they need.
    const noAdmin = await runCli(['checklist', '--key', (await gw.createKey({ name: 'no-admin' })).key, '--json'], cliEnv({ GATEHOUSE_URL: gw.url, GATEHOUSE_ADMIN_KEY: 'gha_not_the_admin_key_000000000000' }));
    expect(noAdmin.code).toBe(1);
    const wrong = parseJsonOut<{ checks: Check[] }>(noAdmin).checks;
    expect(wrong.map((c) => c.status)).toEqual(['pass', 'pass', 'pass', 'fail', 'fail', 'skip']);
    expect(wrong[3]).toMatchObject({ detail: expect.stringMatching(/^could not read the logs: 401: /), fix: expect.stringContaining('GATEHOUSE_ADMIN_KEY') });
  });
});

describe('bad flags', () => {
  it('are refused with a clear message before anything is called', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const cases: Array<[string[], RegExp, number]> = [
      [['logs', '--bogus'], /^gatehouse: logs: Unknown option '--bogus' \(see gatehouse --help\)\.$/m, 1],
      [['logs', '--since', 'yesterday'], /--since needs a duration such as 2h/, 1],
      [['logs', '--status', 'ok'], /--status needs an HTTP status/, 1],
      [['logs', '--meta', 'team'], /--meta needs FIELD=VALUE/, 1],
      [['logs', '--limit', '0'], /--limit needs a whole number from 1 to 500/, 1],
      [['logs', 'show'], /logs show needs one log ID/, 1],
      [['logs', 'frobnicate'], /unknown subcommand "frobnicate"/, 2],
      [['usage', '--bucket', 'week'], /--bucket must be one of hour, day, none; got "week"/, 1],
      [['configs', 'frobnicate'], /use list, show, put or delete/, 2],
      [['checklist'], /checklist needs --key KEY/, 1],
      [['checklist', '--key'], /Option '--key <value>' argument missing/, 1],
      [['workspaces', 'create'], /unknown subcommand "create"/, 2],
    ];
    for (const [args, message, code] of cases) {
      const r = await cli(args, url);
      expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(code);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/cannot reach|^\s+at /m);
    }
  });
});
