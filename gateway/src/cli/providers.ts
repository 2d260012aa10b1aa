import type { ProviderView } from '../server/provider-registry.js';
import { adminCall, adminTarget } from './admin-client.js';
import { readJsonObject } from './configs.js';
import { parseFlags } from './flags.js';
import { table, time, type Column } from './table.js';

/** `gatehouse providers`: the file's providers (read-only here) and those kept through the admin API. */

const COLUMNS: Array<Column<ProviderView>> = [
  { header: 'ID', cell: (p) => p.id },
  { header: 'KIND', cell: (p) => p.kind },
  { header: 'SOURCE', cell: (p) => p.source },
  { header: 'ORIGIN', cell: (p) => p.origin },
  { header: 'READY', cell: (p) => (p.ready ? 'yes' : `no: ${p.problem ?? 'unknown'}`) },
  { header: 'CREDENTIALS', cell: (p) => (p.credentials ? Object.keys(p.credentials).join(', ') || '-' : '-') },
  { header: 'UPDATED', cell: (p) => time(p.updated_at ?? null) },
];

const FLAGS = {
  file: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function runProviders(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('providers', argv, FLAGS);
  const [sub, id, ...extra] = positionals;
  if (extra.length) throw new Error(`providers ${sub} takes one provider ID; got "${[id, ...extra].join(' ')}".`);
  const target = () => adminTarget(values.data);
  const path = (i: string) => `/api/admin/providers/${encodeURIComponent(i)}`;
  const print = (human: string, machine: unknown) => console.log(values.json ? JSON.stringify(machine) : human);
  const needId = (verb: string): string => {
    if (!id) throw new Error(`providers ${verb} needs a provider ID (see gatehouse providers list).`);
    return id;
  };

  switch (sub) {
    case undefined:
    case 'list': {
      if (id) throw new Error(`providers list takes no ID; got "${id}".`);
      const { data } = await adminCall<{ data: ProviderView[] }>(target(), 'GET', '/api/admin/providers');
      print(data.length ? table(COLUMNS, data) : 'No providers. Add one with: gatehouse providers put ID --file provider.json', { data });
      return 0;
    }
    case 'put': {
      const providerId = needId('put');
      if (!values.file) throw new Error('providers put needs --file FILE (a JSON provider with literal "credentials"; - reads stdin).');
      const body = readJsonObject(values.file, '{"kind": "anthropic", "credentials": {"api_key": "sk-ant-..."}}');
      const p = await adminCall<ProviderView>(target(), 'PUT', path(providerId), body);
      print(`Saved provider ${p.id} (${p.kind}, ${p.origin})${p.ready ? '' : `; not ready: ${p.problem ?? 'unknown'}`}. Its credentials are stored encrypted and never shown.`, p);
      return 0;
    }
    case 'delete': {
      const providerId = needId('delete');
      await adminCall<undefined>(target(), 'DELETE', path(providerId));
      print(`Deleted provider ${providerId}.`, { id: providerId, deleted: true });
      return 0;
    }
    default:
      console.error('gatehouse providers: use list, put or delete (gatehouse --help).');
      return 2;
  }
}
