import { homedir } from 'node:os';
import { createInterface, type Interface } from 'node:readline/promises';
import { connect, ConnectError, disconnect, nodeExec, nodeFs, parseScope, type ConnectResult, type CoreIo, type Scope } from '../../../extension/src/core/index.js';
import { metaFlags, parseFlags } from './flags.js';

/**
 * `gatehouse connect` and `gatehouse disconnect`: "Connect Claude Code" for terminal-only
 * developers, on the same core as the VS Code extension (extension/src/core). With its flags
 * given, or without a terminal, connect asks nothing. Exit codes: 0 connected (or nothing to do),
 * 1 the gateway or the settings file said no, 2 wrong or missing input.
 */

const FLAGS = {
  gateway: { type: 'string' },
  key: { type: 'string' },
  scope: { type: 'string' },
  meta: { type: 'string', multiple: true },
  yes: { type: 'boolean', short: 'y', default: false },
  json: { type: 'boolean', default: false },
} as const;

export function cliIo(): CoreIo {
  return { fs: nodeFs, fetch: (url, init) => fetch(url, init), exec: nodeExec, home: homedir(), cwd: process.cwd(), env: process.env, platform: process.platform };
}

function usageError(command: string, message: string, json: boolean): number {
  if (json) console.log(JSON.stringify({ ok: false, error: message }));
  else console.error(`gatehouse ${message.startsWith(`${command}:`) ? '' : `${command}: `}${message}`);
  return 2;
}

function failed(command: string, e: ConnectError, json: boolean): number {
  if (json) console.log(JSON.stringify({ ok: false, error: e.message, fix: e.fix }));
  else console.error(`gatehouse ${command}: ${e.message}\n  fix: ${e.fix}`);
  return e.exitCode;
}

const FROM: Record<string, string> = { template: "your admin's template", flag: '--meta', git: 'git config user.email', asked: 'you' };

function printPlan(r: ConnectResult): void {
  const width = Math.max(...r.summary.map(([k]) => k.length), 'Metadata'.length) + 2;
  for (const [k, v] of r.summary) console.log(`  ${k.padEnd(width)}${v}`);
  const from = Object.entries(r.metadataFrom).map(([f, s]) => `${f} from ${FROM[s]}`).join(', ');
  console.log(`  ${'Metadata'.padEnd(width)}${Object.keys(r.metadata).length ? `${JSON.stringify(r.metadata)} (${from})` : 'none'}`);
  console.log(`\n${r.file} (${r.scope} scope) gets:`);
  for (const [k, v] of Object.entries(r.written)) console.log(`  ${k === 'model' ? 'model' : `env.${k}`} = ${JSON.stringify(v)}`);
}

function printOutcome(r: ConnectResult): void {
  if (r.notes.length) console.log(`\nNotes:\n${r.notes.map((n) => `  - ${n}`).join('\n')}`);
  const over = r.overrides.filter((o) => o.severity === 'override');
  const info = r.overrides.filter((o) => o.severity === 'info');
  if (over.length) console.log(`\nWarning: these take precedence over what was written:\n${over.map((o) => `  ! ${o.message}\n    fix: ${o.fix}`).join('\n')}`);
  if (info.length) console.log(`\nAlso:\n${info.map((o) => `  - ${o.message}`).join('\n')}`);
  if (r.status === 'declined') return console.log('\nNothing was written.');
  if (r.status === 'unchanged') console.log(`\nAlready connected: ${r.file} has these settings; nothing was written.`);
  else console.log(`\nWrote ${r.file} (mode 0600). The previous content is kept in ${r.backup}.`);
  const scope = r.scope === 'user' ? '' : ' --scope local';
  console.log(`Quit and restart Claude Code to use the gateway. Check with: gatehouse doctor. Undo with: gatehouse disconnect${scope}`);
}

async function prompter(rl: Interface | undefined, question: string): Promise<string | undefined> {
  if (!rl) return undefined;
  const a = (await rl.question(question)).trim();
  return a || undefined;
}

export async function runConnect(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseFlags('connect', argv, FLAGS);
    if (parsed.positionals.length) throw new Error(`connect takes flags only; got "${parsed.positionals[0]}" (gatehouse --help).`);
  } catch (e) {
    return usageError('connect', (e as Error).message, argv.includes('--json'));
  }
  const { values } = parsed;
  const json = values.json;
  // Questions only for a person at a terminal, and only for what the flags left out.
  const rl = process.stdin.isTTY && process.stdout.isTTY && !json ? createInterface({ input: process.stdin, output: process.stdout }) : undefined;
  try {
    let metadata: Record<string, string>;
    try {
      metadata = metaFlags('--meta', values.meta);
      if (values.scope) parseScope(values.scope);
    } catch (e) {
      return e instanceof ConnectError ? failed('connect', e, json) : usageError('connect', (e as Error).message, json);
    }
    const gateway = values.gateway ?? (await prompter(rl, 'Gateway URL (from your platform admin): '));
    const key = values.key ?? (await prompter(rl, 'Your Gatehouse key (ghk_...): '));
    if (!gateway || !key) return usageError('connect', `needs --gateway URL and --key KEY${rl ? '' : ' (there is no terminal to ask on)'}.`, json);
    let scope: { scope: Scope; note?: string };
    try {
      scope = parseScope(values.scope ?? (values.yes ? undefined : await prompter(rl, 'Write to your user settings (~/.claude/settings.json) or this project\'s .claude/settings.local.json? [user/local] (user): ')));
    } catch (e) {
      return failed('connect', e as ConnectError, json);
    }

    const result = await connect(
      {
        gateway,
        key,
        scope: scope.scope,
        metadata,
        ask: rl && !values.yes ? (field, required) => prompter(rl, `Metadata "${field}"${required ? ' (required)' : ' (Enter to leave out)'}: `) : undefined,
        confirm:
          rl && !values.yes
            ? async (plan) => {
                console.log(`Connecting Claude Code to ${plan.url}\n`);
                printPlan(plan);
                return !/^n/i.test((await rl.question('\nWrite these settings? [Y/n] ')).trim());
              }
            : undefined,
      },
      cliIo(),
    );
    if (scope.note) result.notes.unshift(scope.note);
    if (json) {
      const { summary: _summary, metadataFrom, ...rest } = result;
      console.log(JSON.stringify({ ok: result.status !== 'declined', ...rest, metadata_from: metadataFrom }));
    } else {
      if (!rl || values.yes) {
        console.log(`Connecting Claude Code to ${result.url}\n`);
        printPlan(result);
      }
      printOutcome(result);
    }
    return result.status === 'declined' ? 1 : 0;
  } catch (e) {
    if (e instanceof ConnectError) return failed('connect', e, json);
    throw e;
  } finally {
    rl?.close();
  }
}

export async function runDisconnect(argv: string[]): Promise<number> {
  let values;
  let scope: { scope: Scope; note?: string };
  try {
    const parsed = parseFlags('disconnect', argv, { scope: FLAGS.scope, json: FLAGS.json });
    if (parsed.positionals.length) throw new Error(`disconnect takes flags only; got "${parsed.positionals[0]}".`);
    values = parsed.values;
    scope = parseScope(values.scope);
  } catch (e) {
    return usageError('disconnect', (e as Error).message, argv.includes('--json'));
  }
  try {
    const r = await disconnect(scope.scope, cliIo());
    if (values.json) console.log(JSON.stringify({ ok: true, ...r }));
    else if (r.status === 'nothing') console.log(`Nothing to undo: gatehouse connect has not written ${r.file} (or it was already disconnected).`);
    else if (r.how === 'exact') console.log(`Restored ${r.file} to exactly what it was before gatehouse connect.`);
    else if (r.how === 'keys') console.log(`Restored the keys gatehouse connect wrote in ${r.file} to their previous values; your later edits to the file are kept.`);
    else console.log(`${r.file} no longer exists; there was nothing to restore.`);
    return 0;
  } catch (e) {
    if (e instanceof ConnectError) return failed('disconnect', e, values.json);
    throw e;
  }
}
