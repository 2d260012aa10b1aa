import { parseArgs } from 'node:util';
import type { KeyView, KeyWithSecret } from '../api/schemas.js';
import { adminCall, adminTarget } from './admin-client.js';

function table(rows: KeyView[]): string {
  const cols: Array<[string, (k: KeyView) => string]> = [
    ['ID', (k) => k.id],
    ['NAME', (k) => k.name],
    ['PREFIX', (k) => k.prefix + '…'],
    ['WORKSPACE', (k) => k.workspace],
    ['PROVIDER', (k) => (k.provider ? '@' + k.provider : '-')],
    ['STATUS', (k) => k.status],
    ['EXPIRES', (k) => k.expires_at ?? 'never'],
  ];
  const cells = [cols.map(([h]) => h), ...rows.map((r) => cols.map(([, f]) => f(r)))];
  const widths = cols.map((_, i) => Math.max(...cells.map((c) => c[i]!.length)));
  return cells.map((c) => c.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

function showSecret(k: KeyWithSecret, verb: string): string {
  return `${verb} key ${k.id} (${k.name}).\n\n  ${k.key}\n\nThis is the only time the key is shown; store it now.`;
}

/** `a,b , c` → ['a','b','c']; undefined stays undefined. */
const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);

function int(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`${flag} needs a positive whole number; got "${v}".`);
  return n;
}

export async function runKeys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: {
      name: { type: 'string' },
      workspace: { type: 'string' },
      provider: { type: 'string' },
      config: { type: 'string' },
      metadata: { type: 'string' },
      expires: { type: 'string' },
      grace: { type: 'string' },
      data: { type: 'string' },
      json: { type: 'boolean', default: false },
      'allow-inline-config': { type: 'boolean', default: false },
      'allowed-models': { type: 'string' },
      'required-metadata': { type: 'string' },
      rpm: { type: 'string' },
      'max-concurrent': { type: 'string' },
    },
  });
  // Resolved on first use, so argument mistakes are reported before a missing admin key.
  const target = () => adminTarget(values.data);
  const print = (human: string, machine: unknown) => console.log(values.json ? JSON.stringify(machine) : human);

  switch (sub) {
    case 'create': {
      if (!values.name) throw new Error('keys create needs --name NAME.');
      let metadata: unknown;
      if (values.metadata !== undefined) {
        try {
          metadata = JSON.parse(values.metadata);
        } catch (e) {
          throw new Error(`--metadata is not valid JSON: ${(e as Error).message}`);
        }
      }
      const k = await adminCall<KeyWithSecret>(target(), 'POST', '/api/admin/keys', {
        name: values.name,
        workspace: values.workspace,
        provider: values.provider,
        config: values.config,
        metadata,
        expires_in: values.expires,
        allow_inline_config: values['allow-inline-config'],
        allowed_models: list(values['allowed-models']),
        required_metadata: list(values['required-metadata']),
        rpm: int('--rpm', values.rpm),
        max_concurrent: int('--max-concurrent', values['max-concurrent']),
      });
      print(showSecret(k, 'Created'), k);
      return 0;
    }
    case 'list': {
      const q = values.workspace ? `?workspace=${encodeURIComponent(values.workspace)}` : '';
      const { data } = await adminCall<{ data: KeyView[] }>(target(), 'GET', `/api/admin/keys${q}`);
      print(data.length ? table(data) : 'No keys yet. Create one with: gatehouse keys create --name NAME', { data });
      return 0;
    }
    case 'revoke': {
      const id = positionals[0];
      if (!id) throw new Error('keys revoke needs a KEY_ID (see gatehouse keys list).');
      const k = await adminCall<KeyView>(target(), 'POST', `/api/admin/keys/${encodeURIComponent(id)}/revoke`, {});
      print(`Revoked key ${k.id} (${k.name}) at ${k.revoked_at}.`, k);
      return 0;
    }
    case 'rotate': {
      const id = positionals[0];
      if (!id) throw new Error('keys rotate needs a KEY_ID (see gatehouse keys list).');
      const k = await adminCall<KeyWithSecret>(target(), 'POST', `/api/admin/keys/${encodeURIComponent(id)}/rotate`, values.grace ? { grace: values.grace } : {});
      print(`${showSecret(k, 'Rotated')}\nThe old key keeps working for ${values.grace ?? '24h'}.`, k);
      return 0;
    }
    default:
      console.error('gatehouse keys: use create, list, revoke or rotate (gatehouse --help).');
      return 2;
  }
}
