/**
 * The Claude Code VS Code extension's own settings: `claudeCode.environmentVariables` (an array
 * of `{ name, value }`, which it gives the Claude process it starts) and
 * `claudeCode.disableLoginPrompt` (no claude.ai sign-in screen when a gateway is set). Connect
 * sets both and remembers what was there; disconnect puts exactly that back. Pure: the VS Code
 * glue reads and writes the values, this decides them.
 */

export interface EnvVar {
  name: string;
  value: string;
}

/** A setting as it was at one configuration target before connect: absent, or this value. */
export type Previous = { set: false } | { set: true; value: unknown };

export interface ClaudeCodeMemo {
  environmentVariables: Previous;
  disableLoginPrompt: Previous;
  /** The names connect put in the array, so a later connect can drop the ones it no longer sets. */
  names: string[];
}

export interface ClaudeCodeValues {
  /** As read at the target (undefined: not set there). */
  environmentVariables: unknown;
  disableLoginPrompt: unknown;
}

/**
 * Not written to VS Code's settings: they are plain text, Settings Sync copies the user's to other
 * machines, and a workspace's .vscode/settings.json is often committed. Claude Code reads the key
 * from its own settings file (mode 0600), where connect wrote it.
 */
export const SECRET_ENV: readonly string[] = ['ANTHROPIC_AUTH_TOKEN', 'ANTHROPIC_API_KEY'];

function asEnvVars(v: unknown): EnvVar[] {
  if (!Array.isArray(v)) return [];
  return v.filter((e): e is EnvVar => typeof e === 'object' && e !== null && typeof (e as EnvVar).name === 'string' && typeof (e as EnvVar).value === 'string');
}

const previousOf = (v: unknown): Previous => (v === undefined ? { set: false } : { set: true, value: v });

/**
 * What to write: the developer's own entries kept in their order, ours replacing any of the same
 * name; entries an earlier connect wrote and this one does not go back to their first value.
 * The memo of the first connect is kept, so disconnect restores what was there before any.
 */
export function planClaudeCodeSettings(current: ClaudeCodeValues, env: Readonly<Record<string, string>>, memo: ClaudeCodeMemo | undefined): { environmentVariables: EnvVar[]; disableLoginPrompt: true; memo: ClaudeCodeMemo } {
  const ours = Object.entries(env).filter(([name]) => !SECRET_ENV.includes(name));
  const names = ours.map(([name]) => name);
  const first = memo ?? { environmentVariables: previousOf(current.environmentVariables), disableLoginPrompt: previousOf(current.disableLoginPrompt), names: [] };
  const original = first.environmentVariables.set ? asEnvVars(first.environmentVariables.value) : [];
  const out: EnvVar[] = [];
  for (const e of asEnvVars(current.environmentVariables)) {
    if (names.includes(e.name)) continue;
    if (first.names.includes(e.name)) {
      const was = original.find((o) => o.name === e.name);
      if (was) out.push(was);
      continue;
    }
    out.push(e);
  }
  out.push(...ours.map(([name, value]) => ({ name, value })));
  return { environmentVariables: out, disableLoginPrompt: true, memo: { ...first, names } };
}

/** The values disconnect writes back (undefined removes the setting at that target). */
export function restoredClaudeCodeSettings(memo: ClaudeCodeMemo): { environmentVariables: unknown; disableLoginPrompt: unknown } {
  return {
    environmentVariables: memo.environmentVariables.set ? memo.environmentVariables.value : undefined,
    disableLoginPrompt: memo.disableLoginPrompt.set ? memo.disableLoginPrompt.value : undefined,
  };
}
