import { readFileSync } from 'node:fs';
import { parse as parseJsonc, type ParseError } from 'jsonc-parser';
import type { ConfigEntry } from '../routing/registry.js';
import type { RouteNode } from '../routing/config-schema.js';
import { jsonSyntaxErrors } from '../wire/json-syntax.js';
import { adminCall, adminTarget, queryString } from './admin-client.js';
import { parseFlags } from './flags.js';
import { table, type Column } from './table.js';

/** `gatehouse configs`: the routing configs, the file's (read-only here) and those kept through the admin API. */

/** `fallback: @anthropic → @bedrock`, `@anthropic (cache)`: where a config sends requests. */
export function routeSummary(n: RouteNode): string {
  const extras = [n.cache && 'cache', n.retry && `${n.retry.attempts} retries`, n.override_params && 'overrides', n.input_guardrails?.length && `guardrails ${n.input_guardrails.join(',')}`].filter(Boolean);
  const tail = extras.length ? ` (${extras.join(', ')})` : '';
  if (n.targets) {
    const sep = n.strategy?.mode === 'fallback' ? ' → ' : ', ';
    return `${n.strategy?.mode ?? 'single'}: ${n.targets.map((t) => (t.targets ? `[${routeSummary(t)}]` : t.name ?? (t.provider ? '@' + t.provider.replace(/^@/, '') : 'default'))).join(sep)}${tail}`;
  }
  return `${n.provider ? '@' + n.provider.replace(/^@/, '') : 'default provider'}${tail}`;
}

const COLUMNS: Array<Column<ConfigEntry>> = [
  { header: 'ID', cell: (c) => c.id },
  { header: 'SOURCE', cell: (c) => c.source },
  { header: 'WORKSPACE', cell: (c) => c.workspace ?? 'all' },
  { header: 'ROUTE', cell: (c) => routeSummary(c.config) },
];

/**
 * A JSON or JSONC file holding one object (`-` for stdin), parsed, or an error naming the line and
 * column. `example` shows what the object looks like. Shared by every `put --file` command.
 */
export function readJsonObject(file: string, example = '{"provider": "@anthropic"}'): unknown {
  let text: string;
  try {
    text = readFileSync(file === '-' ? 0 : file, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? 'unknown error'}).`);
  }
  const problems: ParseError[] = [];
  const parsed: unknown = parseJsonc(text, problems, { allowTrailingComma: true, disallowComments: false });
  if (problems.length) {
    const where = jsonSyntaxErrors(text, { jsonc: true })[0];
    throw new Error(`${file} is not valid JSON${where ? `: line ${where.line}, column ${where.column}: ${where.what}` : ''}.`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error(`${file} must hold one JSON object, e.g. ${example}.`);
  return parsed;
}

const FLAGS = {
  file: { type: 'string' },
  workspace: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function runConfigs(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('configs', argv, FLAGS);
  const [sub, id, ...extra] = positionals;
  if (extra.length) throw new Error(`configs ${sub} takes one config ID; got "${[id, ...extra].join(' ')}".`);
  const target = () => adminTarget(values.data);
  const path = (i: string) => `/api/admin/configs/${encodeURIComponent(i)}`;
  const print = (human: string, machine: unknown) => console.log(values.json ? JSON.stringify(machine) : human);
  const needId = (verb: string): string => {
    if (!id) throw new Error(`configs ${verb} needs a config ID (see gatehouse configs list).`);
    return id;
  };

  switch (sub) {
    case undefined:
    case 'list': {
      if (id) throw new Error(`configs list takes no ID; use gatehouse configs show ${id}.`);
      const { data } = await adminCall<{ data: ConfigEntry[] }>(target(), 'GET', `/api/admin/configs${queryString([['workspace', values.workspace]])}`);
      print(data.length ? table(COLUMNS, data) : 'No routing configs. Add one with: gatehouse configs put ID --file config.json', { data });
      return 0;
    }
    case 'show': {
      const c = await adminCall<ConfigEntry>(target(), 'GET', path(needId('show')));
      print(`Config ${c.id} (${c.source === 'file' ? "from the gateway's config file" : 'kept through the admin API'}, ${c.workspace ? `workspace "${c.workspace}" only` : 'every workspace'}):\n${JSON.stringify(c.config, null, 2)}`, c);
      return 0;
    }
    case 'put': {
      const configId = needId('put');
      if (!values.file) throw new Error('configs put needs --file FILE (a JSON routing config; - reads stdin).');
      const body = readJsonObject(values.file);
      const c = await adminCall<ConfigEntry>(target(), 'PUT', path(configId) + queryString([['workspace', values.workspace]]), body);
      print(`Saved config ${c.id}${c.workspace ? ` for workspace "${c.workspace}"` : ''}: ${routeSummary(c.config)}.\nUse it with x-portkey-config: ${c.id}, or give it to a key with gatehouse keys create --config ${c.id}.`, c);
      return 0;
    }
    case 'delete': {
      const configId = needId('delete');
      await adminCall<undefined>(target(), 'DELETE', path(configId));
      print(`Deleted config ${configId}.`, { id: configId, deleted: true });
      return 0;
    }
    default:
      console.error('gatehouse configs: use list, show, put or delete (gatehouse --help).');
      return 2;
  }
}
