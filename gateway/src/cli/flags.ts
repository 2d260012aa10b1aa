import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseDuration } from '../governance/keys.js';

/** Flag parsing shared by the commands: node's parseArgs, with its errors naming the command. */

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseFlags<O extends Options>(command: string, args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    // ERR_PARSE_ARGS_UNKNOWN_OPTION and friends: say which command, and where the list of flags is.
    if ((e as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) throw new Error(`${command}: ${(e as Error).message.replace(/ To specify a positional.*$/s, '').replace(/\.$/, '')} (see gatehouse --help).`);
    throw e;
  }
}

/** `2h` (that long ago) or an ISO time; returned as ISO. */
export function timeFlag(flag: string, v: string | undefined, now = Date.now()): string | undefined {
  if (v === undefined) return undefined;
  const ago = parseDuration(v);
  if (ago !== undefined) return new Date(now - ago).toISOString();
  const t = /^\d{4}-\d{2}-\d{2}/.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(t)) throw new Error(`${flag} needs a duration such as 2h, 30m or 7d (that long ago), or an ISO time such as 2026-11-22T00:00:00Z; got "${v}".`);
  return new Date(t).toISOString();
}

/** `--meta team=support --meta env=prod` → `{team: 'support', env: 'prod'}`. */
export function metaFlags(flag: string, values: readonly string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const v of values ?? []) {
    const eq = v.indexOf('=');
    if (eq < 1) throw new Error(`${flag} needs FIELD=VALUE, e.g. ${flag} team=support; got "${v}".`);
    out[v.slice(0, eq)] = v.slice(eq + 1);
  }
  return out;
}

export function positiveInt(flag: string, v: string | undefined, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0 || n > max) throw new Error(`${flag} needs a whole number from 1 to ${max}; got "${v}".`);
  return n;
}

/** A `?name=value` filter per metadata field. */
export const metaParams = (m: Record<string, string>): Array<[string, string]> => Object.entries(m).map(([k, v]) => [`metadata.${k}`, v]);
