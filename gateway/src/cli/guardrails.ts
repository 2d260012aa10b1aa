import type { GuardrailDef } from '../governance/guardrails/schema.js';
import { adminCall, adminTarget } from './admin-client.js';
import { readJsonObject } from './configs.js';
import { parseFlags } from './flags.js';
import { table, time, type Column } from './table.js';

/** `gatehouse guardrails`: the file's guardrails (read-only here) and those kept through the admin API. */

/** One entry of `GET /api/admin/guardrails`: the definition with its id and source. */
export type GuardrailView = GuardrailDef & { id: string; source: 'file' | 'api'; updated_at?: string };

const COLUMNS: Array<Column<GuardrailView>> = [
  { header: 'ID', cell: (g) => g.id },
  { header: 'TYPE', cell: (g) => g.type },
  { header: 'ACTION', cell: (g) => g.action },
  { header: 'SOURCE', cell: (g) => g.source },
  { header: 'UPDATED', cell: (g) => time(g.updated_at ?? null) },
];

const FLAGS = {
  file: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function runGuardrails(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('guardrails', argv, FLAGS);
  const [sub, id, ...extra] = positionals;
  if (extra.length) throw new Error(`guardrails ${sub} takes one guardrail ID; got "${[id, ...extra].join(' ')}".`);
  const target = () => adminTarget(values.data);
  const path = (i: string) => `/api/admin/guardrails/${encodeURIComponent(i)}`;
  const print = (human: string, machine: unknown) => console.log(values.json ? JSON.stringify(machine) : human);
  const needId = (verb: string): string => {
    if (!id) throw new Error(`guardrails ${verb} needs a guardrail ID (see gatehouse guardrails list).`);
    return id;
  };

  switch (sub) {
    case undefined:
    case 'list': {
      if (id) throw new Error(`guardrails list takes no ID; got "${id}".`);
      const { data } = await adminCall<{ data: GuardrailView[] }>(target(), 'GET', '/api/admin/guardrails');
      print(data.length ? table(COLUMNS, data) : 'No guardrails. Add one with: gatehouse guardrails put ID --file guardrail.json', { data });
      return 0;
    }
    case 'put': {
      const guardrailId = needId('put');
      if (!values.file) throw new Error('guardrails put needs --file FILE (a JSON guardrail; - reads stdin).');
      const body = readJsonObject(values.file, '{"type": "secrets", "action": "deny"}');
      const g = await adminCall<GuardrailView>(target(), 'PUT', path(guardrailId), body);
      print(`Saved guardrail ${g.id} (${g.type}, ${g.action}). Attach it to a workspace ("guardrails": ["${g.id}"]) or a routing config ("input_guardrails").`, g);
      return 0;
    }
    case 'delete': {
      const guardrailId = needId('delete');
      await adminCall<undefined>(target(), 'DELETE', path(guardrailId));
      print(`Deleted guardrail ${guardrailId}.`, { id: guardrailId, deleted: true });
      return 0;
    }
    default:
      console.error('gatehouse guardrails: use list, put or delete (gatehouse --help).');
      return 2;
  }
}
