import { runDoctor, type Check } from '../../../extension/src/core/index.js';
import { cliIo } from './connect.js';
import { parseFlags } from './flags.js';

/**
 * `gatehouse doctor`: the seeds' troubleshooting tables as checks of this machine's Claude Code
 * setup (the settings it will read, the gateway they point at, the key, streaming, metadata,
 * precedence, the installed CLI). Exit 0 when nothing failed (warnings and skips included), 1
 * when a check failed, 2 on wrong flags.
 */

const FLAGS = {
  gateway: { type: 'string' },
  key: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

const print = (c: Check): void => console.log(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(28)}${c.detail}${c.fix ? `\n${' '.repeat(6)}fix: ${c.fix}` : ''}`);

export async function runDoctorCommand(argv: string[]): Promise<number> {
  let values;
  try {
    const parsed = parseFlags('doctor', argv, FLAGS);
    if (parsed.positionals.length) throw new Error(`doctor takes flags only; got "${parsed.positionals[0]}" (gatehouse --help).`);
    values = parsed.values;
  } catch (e) {
    console.error(`gatehouse doctor: ${(e as Error).message}`);
    return 2;
  }
  const checks = await runDoctor({ gateway: values.gateway, key: values.key }, cliIo());
  const failed = checks.filter((c) => c.status === 'fail').length;
  if (values.json) {
    console.log(JSON.stringify({ ok: failed === 0, checks }));
  } else {
    for (const c of checks) print(c);
    const warned = checks.filter((c) => c.status === 'warn').length;
    console.log(`\n${failed ? `${failed} check${failed > 1 ? 's' : ''} failed` : 'Claude Code is set up for the gateway'}${warned ? ` (${warned} warning${warned > 1 ? 's' : ''})` : ''}.`);
  }
  return failed ? 1 : 0;
}
