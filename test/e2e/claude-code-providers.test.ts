// Claude Code (pinned CLI) through Gatehouse to Bedrock and to Vertex: the developer's setup is
// the same as for Anthropic (ANTHROPIC_BASE_URL + a Gatehouse key); only the key's provider
// differs, and the tool round trip must work unchanged.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BedrockEmulator } from '../emulators/bedrock.js';
import { VertexEmulator } from '../emulators/vertex.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { claudeRunner, eventsOf, expectExit, type ClaudeRun, type RunOptions } from './claude-runner.js';

let bedrock: BedrockEmulator;
let vertex: VertexEmulator;
let gw: TestGateway;
let scratch: string;
let launch: (args: string[], opts: RunOptions) => Promise<ClaudeRun>;

beforeAll(async () => {
  [bedrock, vertex] = await Promise.all([BedrockEmulator.start(), VertexEmulator.start()]);
  gw = await startGateway(
    {
      providers: {
        bedrock: { kind: 'bedrock', region: 'us-east-1', base_url: bedrock.url, access_key_id: 'env:AWS_ID', secret_access_key: 'env:AWS_SECRET' },
        vertex: { kind: 'vertex', project: vertex.project, region: 'us-east5', base_url: vertex.baseUrl, token_url: vertex.tokenUrl, service_account: 'env:VERTEX_SA' },
      },
    },
    { AWS_ID: BedrockEmulator.DEFAULT_CREDENTIALS.accessKeyId, AWS_SECRET: BedrockEmulator.DEFAULT_CREDENTIALS.secretAccessKey, VERTEX_SA: JSON.stringify(vertex.serviceAccount()) },
  );
  scratch = mkdtempSync(join(tmpdir(), 'gatehouse-cc-providers-'));
  launch = claudeRunner(scratch);
});
afterAll(async () => {
  await gw?.close();
  await Promise.all([bedrock?.close(), vertex?.close()]);
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

describe.each(['bedrock', 'vertex'] as const)('Claude Code through Gatehouse to %s', (slug) => {
  it('runs a Bash tool round trip', { timeout: 60_000 }, async () => {
    const key = (await gw.createKey({ name: `cc-${slug}`, provider: `@${slug}` })).key;
    const prompt = `EMU_TOOL Bash {"command":"echo via-${slug} > out.txt; cat out.txt","description":"write file"}`;
    const run = await launch(['-p', prompt, '--allowedTools', 'Bash', '--output-format', 'stream-json', '--verbose'], { token: key, baseUrl: gw.url });
    expectExit(run, true);
    expect(readFileSync(join(run.cwd, 'out.txt'), 'utf8').trim()).toBe(`via-${slug}`);
    const result = eventsOf(run).find((e) => e.type === 'result');
    expect(result?.result).toBe(`tool result: via-${slug}`);

    // Both turns went to this provider, in its own wire format.
    const calls = slug === 'bedrock' ? bedrock.requests.filter((r) => r.path.endsWith('/invoke-with-response-stream')) : vertex.requests.filter((r) => r.op === 'streamRawPredict');
    expect(calls.length).toBe(2);
    const second = calls[1]!.json as { messages: Array<{ content: unknown }>; model?: unknown; anthropic_version: string };
    expect(second.model).toBeUndefined();
    expect(second.anthropic_version).toBe(slug === 'bedrock' ? 'bedrock-2023-05-31' : 'vertex-2023-10-16');
    expect(JSON.stringify(second.messages)).toContain('"type":"tool_result"');
  });
});
