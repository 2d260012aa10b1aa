import { parseArgs } from 'node:util';
import type { KeyView, KeyWithSecret } from '../api/schemas.js';
import { adminCall, adminTarget } from './admin-client.js';
import { table, type Column } from './table.js';

const KEY_COLUMNS: Array<Column<KeyView>> = [
  { header: 'ID', cell: (k) => k.id },
  { header: 'NAME', cell: (k) => k.name },
  { header: 'PREFIX', cell: (k) => k.prefix + '…' },
  { header: 'WORKSPACE', cell: (k) => k.workspace },
  { header: 'PROVIDER', cell: (k) => (k.provider ? '@' + k.provider : '-') },
  { header: 'BUDGET', cell: (k) => budgetText(k) },
  { header: 'LIMITS', cell: (k) => limitsText(k) },
  { header: 'STATUS', cell: (k) => k.status },
  { header: 'EXPIRES', cell: (k) => k.expires_at ?? 'never' },
];

function limitsText(k: KeyView): string {
  return [k.rpm && `${k.rpm} rpm`, k.tpm && `${k.tpm} tpm`, k.max_concurrent && `${k.max_concurrent} at once`].filter(Boolean).join(', ') || '-';
}

function budgetText(k: KeyView): string {
  const parts = [k.budget_usd !== null && `$${k.budget_usd}`, k.budget_tokens !== null && `${k.budget_tokens} tokens`].filter(Boolean);
  return parts.length ? `${parts.join(' + ')}/${k.budget_period}` : '-';
}

function showSecret(k: KeyWithSecret, verb: string): string {
  return `${verb} key ${k.id} (${k.name}).\n\n  ${k.key}\n\nThis is the only time the key is shown; store it now.`;
}

/** `a,b , c` → ['a','b','c']; undefined stays undefined. */
const list = (v: string | undefined): string[] | undefined => v?.split(',').map((s) => s.trim()).filter(Boolean);

/** `--metadata '{"team":"eng"}'`: checked here so a typo is reported before any call. */
function metadataFlag(v: string | undefined): unknown {
  if (v === undefined) return undefined;
  try {
    return JSON.parse(v);
  } catch (e) {
    throw new Error(`--metadata is not valid JSON: ${(e as Error).message}`);
  }
}

function usd(flag: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v.replace(/^\$/, ''));
  if (!Number.isFinite(n) || n <= 0) throw new Error(`${flag} needs a positive amount in US dollars, e.g. 25 or 2.50; got "${v}".`);
  return n;
}

const PERIODS = ['day', 'week', 'month', 'lifetime'] as const;
function period(v: string | undefined): (typeof PERIODS)[number] | undefined {
  if (v === undefined) return undefined;
  const p = PERIODS.find((x) => x === v);
  if (!p) throw new Error(`--budget-period must be one of ${PERIODS.join(', ')}; got "${v}".`);
  return p;
}

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
      tpm: { type: 'string' },
      'max-concurrent': { type: 'string' },
      'budget-usd': { type: 'string' },
      'budget-tokens': { type: 'string' },
      'budget-period': { type: 'string' },
    },
  });
  // Resolved on first use, so argument mistakes are reported before a missing admin key.
  const target = () => adminTarget(values.data);
  const print = (human: string, machine: unknown) => console.log(values.json ? JSON.stringify(machine) : human);

  switch (sub) {
    case 'create': {
      if (!values.name) throw new Error('keys create needs --name NAME.');
      const metadata = metadataFlag(values.metadata);
      const budgetPeriod = period(values['budget-period']);
      if (budgetPeriod && values['budget-usd'] === undefined && values['budget-tokens'] === undefined) throw new Error('--budget-period needs --budget-usd or --budget-tokens.');
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
        tpm: int('--tpm', values.tpm),
        max_concurrent: int('--max-concurrent', values['max-concurrent']),
        budget_usd: usd('--budget-usd', values['budget-usd']),
        budget_tokens: int('--budget-tokens', values['budget-tokens']),
        budget_period: budgetPeriod,
      });
      print(showSecret(k, 'Created'), k);
      return 0;
    }
    case 'update': {
      const id = positionals[0];
      if (!id) throw new Error('keys update needs a KEY_ID (see gatehouse keys list).');
      // "none" removes a limit or budget; flags not given stay as they are.
      const orNone = <T>(v: string | undefined, parse: (v: string) => T | undefined): T | null | undefined => (v === 'none' ? null : v === undefined ? undefined : parse(v));
      const metadata = metadataFlag(values.metadata);
      const patch = {
        name: values.name,
        metadata,
        allowed_models: orNone(values['allowed-models'], list),
        required_metadata: list(values['required-metadata']),
        rpm: orNone(values.rpm, (v) => int('--rpm', v)),
        tpm: orNone(values.tpm, (v) => int('--tpm', v)),
        max_concurrent: orNone(values['max-concurrent'], (v) => int('--max-concurrent', v)),
        budget_usd: orNone(values['budget-usd'], (v) => usd('--budget-usd', v)),
        budget_tokens: orNone(values['budget-tokens'], (v) => int('--budget-tokens', v)),
        budget_period: period(values['budget-period']),
      };
      const k = await adminCall<KeyView>(target(), 'PATCH', `/api/admin/keys/${encodeURIComponent(id)}`, patch);
      print(`Updated key ${k.id} (${k.name}): budget ${budgetText(k)}; limits ${limitsText(k)}.`, k);
      return 0;
    }
    case 'list': {
      const q = values.workspace ? `?workspace=${encodeURIComponent(values.workspace)}` : '';
      const { data } = await adminCall<{ data: KeyView[] }>(target(), 'GET', `/api/admin/keys${q}`);
      print(data.length ? table(KEY_COLUMNS, data) : 'No keys yet. Create one with: gatehouse keys create --name NAME', { data });
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
      console.error('gatehouse keys: use create, list, update, revoke or rotate (gatehouse --help).');
      return 2;
  }
}
