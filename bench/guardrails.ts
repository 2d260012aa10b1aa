// Guardrails micro-benchmark: a typical set (every secret kind, every PII kind, ten blocked
// words, one regex) on a 500 KB request shaped like Claude Code's, in which nothing matches.
// The body is full of near misses (timestamps, epoch milliseconds, UUIDs, git hashes, versions,
// IPs, npm integrity hashes, decorators), so detectors are exercised, not idle.
import { compileGuardrails, type CompiledGuardrails, type GuardrailInput } from '../gateway/src/governance/guardrails/engine.js';
import { GuardrailSchema } from '../gateway/src/governance/guardrails/schema.js';

const WORDS = ['confidential', 'internal only', 'do not distribute', 'proprietary', 'trade secret', 'embargoed', 'project falcon', 'attorney-client', 'nda', 'top secret'];

export const TYPICAL_GUARDRAILS = {
  'no-secrets': { type: 'secrets', action: 'deny' },
  'pii-redact': { type: 'pii', action: 'redact' },
  'no-codenames': { type: 'blocked_words', words: WORDS, action: 'deny' },
  'no-customer-ids': { type: 'regex', pattern: '\\bCUST-[0-9]{6,}\\b', action: 'deny' },
};

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}

/** A deterministic Claude Code–like request body of about `target` bytes. */
export function claudeCodeLikeBody(target = 500_000): string {
  const r = rng(7);
  const int = (n: number) => Math.floor(r() * n);
  const pick = <T>(a: readonly T[]) => a[int(a.length)]!;
  const hex = (n: number) => Array.from({ length: n }, () => '0123456789abcdef'[int(16)]).join('');
  const IDENT = ['config', 'request', 'handler', 'provider', 'stream', 'buffer', 'options', 'result', 'target', 'usage', 'model', 'session'];
  const code = (): string => {
    const a = pick(IDENT);
    const b = pick(IDENT);
    return pick([
      `import { ${a}From${b} } from '../${a}/${b}.js';`,
      `export function ${a}To${b}(${a}: ${b}Options, limit = ${int(5000)}): number {`,
      `  if (${a}.length > ${int(100000)}) throw new Error(\`${a} too large: \${${a}.length} bytes\`);`,
      `  const ${a} = await ${b}.fetch({ timeoutMs: ${int(30000)}, retries: ${int(5)} });`,
      `  // ${a} is kept until the ${b} ends, see issue #${int(9000)}`,
      `  return ${a}.map((x) => x.${b} * 0.${int(999)});`,
      `    "${a}": "^${int(20)}.${int(40)}.${int(30)}",`,
      `  @Injectable() private readonly ${a}: ${b}Service;`,
      '}',
    ]);
  };
  const log = (i: number): string => {
    const t = new Date(Date.UTC(2025, 2, 14, 9) + i * 1379 + int(1000)).toISOString();
    return pick([
      `${t} INFO  [worker-${int(8)}] request ${hex(8)}-${hex(4)}-4${hex(3)}-a${hex(3)}-${hex(12)} completed in ${int(900)}ms status=200 bytes=${int(99999)}`,
      `commit ${hex(40)}\nAuthor: Dev Example <dev at example dot org>\nDate:   Fri Mar 14 09:26:53 2025 +0100`,
      `${t} WARN  retrying upstream 10.0.${int(255)}.${int(255)}:443 after ${int(3000)}ms (attempt ${int(4)}/3) ts=${1741944413000 + i}`,
      `    at Object.<anonymous> (/home/dev/project/src/${pick(IDENT)}.ts:${int(400)}:${int(80)})`,
      `npm notice version 2.1.${int(400)} sha512-${hex(32)} size ${int(9000)} kB`,
      `${t} DEBUG cache hit ratio=0.${int(99)} keys=${int(1_000_000)} uptime=${int(86400)}s`,
    ]);
  };
  const lines = (n: number, f: (i: number) => string) => {
    const out: string[] = [];
    for (let len = 0, i = 0; len < n; i++) len += out[out.push(f(i)) - 1]!.length + 1;
    return out.join('\n');
  };
  const prose = (n: number) =>
    lines(n, () => pick(['The handler keeps the stream open until the provider ends it.', 'Each caller is checked before the change is applied.', 'Run the unit tests after every edit and fix what breaks.', 'Never print credentials; they stay on the gateway.']));
  const tools = Array.from({ length: 20 }, (_, i) => ({
    name: `Tool${i}`,
    description: prose(3000),
    input_schema: {
      type: 'object',
      properties: {
        command: { type: 'string', description: prose(300) },
        path: { type: 'string', description: prose(200) },
        timeout: { type: 'number', description: 'Milliseconds, at most 600000.' },
        mode: { type: 'string', enum: ['read', 'write', 'append'] },
      },
      required: ['command'],
      additionalProperties: false,
    },
  }));
  const system = [
    { type: 'text', text: 'x-anthropic-billing-header: cc_version=2.1.330.440; cc_entrypoint=sdk-cli;' },
    { type: 'text', text: "You are a Claude agent, built on Anthropic's Claude Agent SDK." },
    { type: 'text', text: prose(12_000), cache_control: { type: 'ephemeral' } },
  ];
  const messages: unknown[] = [{ role: 'user', content: [{ type: 'text', text: prose(2000) }, { type: 'text', text: 'Refactor the server module.' }] }];
  for (let turn = 0; JSON.stringify({ tools, system, messages }).length < target - 2000; turn++) {
    const id = `toolu_${hex(24)}`;
    messages.push({
      role: 'assistant',
      content: [
        { type: 'thinking', thinking: prose(400), signature: 'EqQBCgIYAhIM'.repeat(20) },
        { type: 'text', text: prose(200) },
        { type: 'tool_use', id, name: 'Bash', input: { command: `rg -n "${pick(IDENT)}" src/ | head -${int(100)}`, timeout: 120000 } },
      ],
    });
    const result = turn % 2 ? lines(6000, code) : lines(6000, log);
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: turn % 4 === 0 ? [{ type: 'text', text: result }] : result }] });
  }
  messages.push({ role: 'user', content: 'Now apply the change.' });
  return JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 32000, system, messages, tools, metadata: { user_id: 'bench' }, stream: true });
}

function timeMs(runs: number, f: () => void): { median: number; p95: number } {
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    f();
    ts.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  ts.sort((a, b) => a - b);
  const round = (x: number) => Math.round(x * 1000) / 1000;
  return { median: round(ts[Math.floor(runs / 2)]!), p95: round(ts[Math.floor(runs * 0.95)]!) };
}

function check(rails: CompiledGuardrails, input: GuardrailInput): void {
  const out = rails.run(input);
  const hit = out.verdicts.find((v) => v.matched);
  if (hit || out.verdicts.length !== rails.ids.length) throw new Error(`the benchmark body must match nothing: ${JSON.stringify(hit)}`);
}

export function runGuardrailsBench(runs = 400) {
  const body = Buffer.from(claudeCodeLikeBody());
  const defs = Object.entries(TYPICAL_GUARDRAILS).map(([id, d]) => ({ id, def: GuardrailSchema.parse(d) }));
  const rails = compileGuardrails(defs);
  const input: GuardrailInput = { body, model: 'claude-sonnet-4-5', metadata: {} };
  check(rails, input);
  for (let i = 0; i < 100; i++) rails.run(input); // warm-up: JIT and regex tier-up
  const scan = timeMs(runs, () => rails.run(input));
  // For comparison: the same request when the engine must parse (a pre-check found something),
  // and JSON.parse alone.
  const parsedPath = timeMs(runs, () => rails.run({ ...input, parsed: JSON.parse(body.toString('utf8')) }));
  const parse = timeMs(runs, () => JSON.parse(body.toString('utf8')));
  return {
    body_bytes: body.length,
    median_ms: scan.median,
    p95_ms: scan.p95,
    guardrails: defs.map(({ id, def }) => `${id} (${def.type}, ${def.action})`),
    runs,
    parsed_path_median_ms: parsedPath.median,
    json_parse_median_ms: parse.median,
  };
}
