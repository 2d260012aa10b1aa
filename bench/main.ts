// One bundle, several roles, so every process of the benchmark runs the same build.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { startBareProxy } from './bare-proxy.js';
import { runGuardrailsBench } from './guardrails.js';
import { runSessionStorage } from './session-storage.js';
import { runLoad, type LoadSpec } from './loadgen.js';
import { runBench } from './run.js';
import { startUpstream, type ReplyKind } from './upstream.js';

const [role, ...rest] = process.argv.slice(2);
const port = (s: { address(): unknown }) => {
  const a = s.address();
  return typeof a === 'object' && a !== null && 'port' in a ? (a as { port: number }).port : 0;
};

switch (role) {
  case 'upstream': {
    const { values } = parseArgs({ args: rest, options: { reply: { type: 'string' }, pace: { type: 'string' }, latency: { type: 'string' } } });
    const server = await startUpstream({ port: 0, reply: (values.reply ?? 'small') as ReplyKind, paceMs: Number(values.pace ?? 0), latencyMs: Number(values.latency ?? 0) });
    console.log(JSON.stringify({ port: port(server) }));
    break;
  }
  case 'bare-proxy': {
    const { values } = parseArgs({ args: rest, options: { upstream: { type: 'string' } } });
    const server = await startBareProxy(0, values.upstream ?? '');
    console.log(JSON.stringify({ port: port(server) }));
    break;
  }
  case 'loadgen': {
    const spec = JSON.parse(readFileSync(rest[0] ?? '', 'utf8')) as LoadSpec;
    process.stdout.write(JSON.stringify(await runLoad(spec)));
    break;
  }
  case 'session-storage':
    console.log(JSON.stringify(await runSessionStorage()));
    break;
  case 'guardrails':
    console.log(JSON.stringify(runGuardrailsBench()));
    break;
  default:
    await runBench(process.argv.slice(2));
}
