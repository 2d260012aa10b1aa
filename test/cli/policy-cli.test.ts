// `gatehouse guardrails | workspaces | providers` as real processes (the built CLI) against a real
// gateway on a loopback port. Needs the built CLI (`npm run build`; `npm test` builds before vitest).
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { GuardrailView } from '../../gateway/src/cli/guardrails.js';
import type { WorkspaceView } from '../../gateway/src/cli/workspaces.js';
import type { ProviderView } from '../../gateway/src/server/provider-registry.js';
import { AnthropicEmulator } from '../emulators/anthropic.js';
import { ADMIN_KEY, anthropicConfig, startGateway, type TestGateway } from '../helpers/gateway.js';
import { cleanup, cliEnv, makeTempDir, parseJsonOut, runCli, writeConfig, type CliResult } from './harness.js';

let emu: AnthropicEmulator;
let gw: TestGateway;

beforeAll(async () => {
  emu = await AnthropicEmulator.start();
  gw = await startGateway(anthropicConfig(emu.url, { guardrails: { 'file-pii': { type: 'pii', action: 'flag' } } }), { TEST_ANTHROPIC_KEY: emu.apiKey });
});
afterAll(async () => {
  await gw?.close();
  await emu?.close();
});
afterEach(cleanup);

const cli = (args: string[]): Promise<CliResult> => runCli(args, cliEnv({ GATEHOUSE_URL: gw.url, GATEHOUSE_ADMIN_KEY: ADMIN_KEY }));

function ok(r: CliResult): CliResult {
  expect(r.code, `exit ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`).toBe(0);
  return r;
}
const json = async <T>(args: string[]): Promise<T> => parseJsonOut<T>(ok(await cli(args)));

describe('guardrails, workspaces and providers', () => {
  it('guardrails put stores a JSONC file; list shows it beside the file\'s, with its source', async () => {
    const dir = makeTempDir('policy');
    const file = writeConfig(dir, '// catch cloud keys\n{ "type": "secrets", "action": "deny", }\n', 'no-aws.jsonc');
    const saved = ok(await cli(['guardrails', 'put', 'no-aws', '--file', file]));
    expect(saved.stdout).toContain('Saved guardrail no-aws (secrets, deny)');

    const { data } = await json<{ data: GuardrailView[] }>(['guardrails', 'list', '--json']);
    expect(data.map((g) => [g.id, g.source, g.type])).toEqual([['file-pii', 'file', 'pii'], ['no-aws', 'api', 'secrets']]);
    const table = ok(await cli(['guardrails', 'list'])).stdout;
    expect(table).toMatch(/^ID\s+TYPE\s+ACTION\s+SOURCE/);
    expect(table).toMatch(/no-aws\s+secrets\s+deny\s+api/);

    const ws = writeConfig(dir, { name: 'Secure', guardrails: ['no-aws'] }, 'secure.json');
    const w = await json<WorkspaceView>(['workspaces', 'put', 'secure', '--file', ws, '--json']);
    expect(w).toMatchObject({ id: 'secure', source: 'api', guardrails: ['no-aws'] });
    const inUse = await cli(['guardrails', 'delete', 'no-aws']);
    expect(inUse.code).toBe(1);
    expect(inUse.stderr).toContain('Guardrail no-aws is used by workspace(s) secure');
    ok(await cli(['workspaces', 'delete', 'secure']));
    expect(ok(await cli(['guardrails', 'delete', 'no-aws'])).stdout).toContain('Deleted guardrail no-aws.');
  });

  it('providers list shows the file\'s provider as a table and as JSON', async () => {
    const { data } = await json<{ data: ProviderView[] }>(['providers', 'list', '--json']);
    expect(data).toEqual([expect.objectContaining({ id: 'anthropic', kind: 'anthropic', source: 'file', ready: true })]);
    const table = ok(await cli(['providers'])).stdout;
    expect(table).toMatch(/^ID\s+KIND\s+SOURCE\s+ORIGIN\s+READY/);
    expect(table).toMatch(/anthropic\s+anthropic\s+file\s+\S+\s+yes/);
  });
});
