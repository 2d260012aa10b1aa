import type { BudgetView } from '../api/schemas.js';
import type { BudgetConfig, LimitsConfig } from '../config/schema.js';
import { adminCall, adminTarget, queryString } from './admin-client.js';
import { readJsonObject } from './configs.js';
import { parseFlags } from './flags.js';
import { amount, table, time, type Column } from './table.js';

/** `gatehouse workspaces` and `gatehouse budgets`: the governance the gateway enforces, and where spend stands. */

/** One entry of `GET /api/admin/workspaces`. */
export interface WorkspaceView {
  id: string;
  /** `api`: created through the admin API (`gatehouse workspaces put`); `file`: the config file's, or the built-in `default`. */
  source: 'file' | 'api';
  name: string;
  description: string | null;
  providers: string[] | null;
  allowed_models: string[] | null;
  default_config: string | null;
  limits: LimitsConfig | null;
  user_budget: BudgetConfig | null;
  user_limits: LimitsConfig | null;
  guardrails: string[];
  budgets: BudgetView[];
}

/** `60 rpm, 4 at once`; `-` for none. */
export function limitsText(l: LimitsConfig | null | undefined): string {
  if (!l) return '-';
  return [l.rpm && `${l.rpm} rpm`, l.tpm && `${l.tpm} tpm`, l.max_concurrent && `${l.max_concurrent} at once`].filter(Boolean).join(', ') || '-';
}

/** `$1.20 of $25/day`. */
export const budgetText = (b: BudgetView): string => `${amount(b.unit, b.spent)} of ${amount(b.unit, b.limit)}/${b.period}`;

/** A budget as configured: `$25/day`, `$25 + 1,000,000 tokens/month`. */
const budgetConfigText = (b: BudgetConfig): string =>
  `${[b.usd !== undefined && amount('usd', b.usd), b.tokens !== undefined && amount('tokens', b.tokens)].filter(Boolean).join(' + ')}/${b.period}`;

const list = (v: readonly string[] | null, fallback: string): string => (v && v.length ? v.join(', ') : fallback);

const WORKSPACE_COLUMNS: Array<Column<WorkspaceView>> = [
  { header: 'ID', cell: (w) => w.id },
  { header: 'NAME', cell: (w) => w.name },
  { header: 'SOURCE', cell: (w) => w.source },
  { header: 'PROVIDERS', cell: (w) => (w.providers ? w.providers.map((p) => '@' + p).join(', ') : 'any') },
  { header: 'MODELS', cell: (w) => list(w.allowed_models, 'any') },
  { header: 'CONFIG', cell: (w) => w.default_config ?? '-' },
  { header: 'LIMITS', cell: (w) => limitsText(w.limits) },
  { header: 'PER USER', cell: (w) => [w.user_budget && budgetConfigText(w.user_budget), w.user_limits && limitsText(w.user_limits)].filter(Boolean).join('; ') || '-' },
  { header: 'GUARDRAILS', cell: (w) => list(w.guardrails, '-') },
  { header: 'BUDGET', cell: (w) => (w.budgets.length ? w.budgets.map(budgetText).join('; ') : '-') },
];

const BUDGET_COLUMNS: Array<Column<BudgetView>> = [
  { header: 'BUDGET', cell: (b) => b.label },
  { header: 'PERIOD', cell: (b) => b.period },
  { header: 'SPENT', cell: (b) => amount(b.unit, b.spent), right: true },
  { header: 'IN FLIGHT', cell: (b) => amount(b.unit, b.reserved), right: true },
  { header: 'LIMIT', cell: (b) => amount(b.unit, b.limit), right: true },
  { header: 'REMAINING', cell: (b) => amount(b.unit, b.remaining), right: true },
  { header: 'USED', cell: (b) => `${Math.round((100 * b.spent) / b.limit)}%`, right: true },
  { header: 'RESETS', cell: (b) => (b.resets_at ? time(b.resets_at) : 'never') },
];

const FLAGS = {
  workspace: { type: 'string' },
  file: { type: 'string' },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

export async function runWorkspaces(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('workspaces', argv, FLAGS);
  const [sub, id, ...extra] = positionals;
  if (extra.length) throw new Error(`workspaces ${sub} takes one workspace ID; got "${[id, ...extra].join(' ')}".`);
  const print = (human: string, machine: unknown) => console.log(values.json ? JSON.stringify(machine) : human);
  const path = (i: string) => `/api/admin/workspaces/${encodeURIComponent(i)}`;
  const needId = (verb: string): string => {
    if (!id) throw new Error(`workspaces ${verb} needs a workspace ID (see gatehouse workspaces list).`);
    return id;
  };
  switch (sub) {
    case undefined:
    case 'list': {
      if (id) throw new Error(`workspaces list takes no ID; use gatehouse workspaces list --workspace ${id}.`);
      const { data } = await adminCall<{ data: WorkspaceView[] }>(adminTarget(values.data), 'GET', '/api/admin/workspaces');
      const shown = values.workspace ? data.filter((w) => w.id === values.workspace) : data;
      if (values.workspace && shown.length === 0) throw new Error(`no workspace "${values.workspace}"; known: ${data.map((w) => w.id).join(', ')}.`);
      print(table(WORKSPACE_COLUMNS, shown), { data: shown });
      return 0;
    }
    case 'put': {
      const wsId = needId('put');
      if (!values.file) throw new Error('workspaces put needs --file FILE (a JSON workspace, as under "workspaces" in the config file; - reads stdin).');
      const body = readJsonObject(values.file, '{"name": "Support", "guardrails": ["no-secrets"], "limits": {"rpm": 600}}');
      const w = await adminCall<WorkspaceView>(adminTarget(values.data), 'PUT', path(wsId), body);
      print(`Saved workspace ${w.id}: guardrails ${list(w.guardrails, 'none')}; limits ${limitsText(w.limits)}. Create keys in it with gatehouse keys create --workspace ${w.id}.`, w);
      return 0;
    }
    case 'delete': {
      const wsId = needId('delete');
      await adminCall<undefined>(adminTarget(values.data), 'DELETE', path(wsId));
      print(`Deleted workspace ${wsId}.`, { id: wsId, deleted: true });
      return 0;
    }
    default:
      console.error(`gatehouse workspaces: unknown subcommand "${sub}"; use gatehouse workspaces [list] [--json], put ID --file F or delete ID.`);
      return 2;
  }
}

export async function runBudgets(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('budgets', argv, FLAGS);
  if (positionals.length) throw new Error(`budgets takes flags only; got "${positionals[0]}" (gatehouse --help).`);
  const { data } = await adminCall<{ data: BudgetView[] }>(adminTarget(values.data), 'GET', `/api/admin/budgets${queryString([['workspace', values.workspace]])}`);
  if (values.json) console.log(JSON.stringify({ data }));
  else if (data.length === 0) console.log(`No budgets${values.workspace ? ` in workspace "${values.workspace}"` : ''}. Give one to a key (gatehouse keys update ID --budget-usd 25) or to a workspace ("budget" in the config file or gatehouse workspaces put).`);
  else console.log(table(BUDGET_COLUMNS, data));
  return 0;
}
