import { randomBytes } from 'node:crypto';
import type { BudgetView } from '../api/schemas.js';
import type { LimitsConfig } from '../config/schema.js';
import type { LogRow } from '../observe/log-row.js';
import type { ConfigEntry } from '../routing/registry.js';
import { adminCall, ApiError, failure, keyCall, queryString, type AdminTarget, type Answer } from './admin-client.js';
import { compactMeta, int, ms, usd } from './table.js';
import type { WorkspaceView } from './workspaces.js';

/** The checks of `gatehouse checklist` that send requests with the key: the admin guide's pre-launch list. */

export type Status = 'pass' | 'fail' | 'skip';
export interface Check {
  name: string;
  status: Status;
  detail: string;
  fix?: string;
}

/** `GET /api/me`. */
export interface Me {
  key: { id: string; name: string; prefix: string; expires_at: string | null; config: string | null; allowed_models: string[] | null; required_metadata: string[]; metadata: Record<string, string> };
  workspace: { id: string; name: string };
  limits: { key: { rpm: number | null; tpm: number | null; max_concurrent: number | null }; workspace: LimitsConfig | null; user: LimitsConfig | null };
  budgets: BudgetView[];
}

/** What the checks learn as they go. */
export interface Run {
  url: string;
  key: string;
  model: string;
  admin: AdminTarget;
  /** Sent as metadata.checklist on every request, to find them in the logs. */
  marker: string;
  /** `--meta` values for fields the key requires. */
  meta: Record<string, string>;
  me?: Me;
  /** Null when the admin API could not say (the error is in `adminError`). */
  workspace?: WorkspaceView | null;
  adminError?: string;
  /** The x-portkey-metadata of the real request. */
  sent?: Record<string, string>;
  answer?: Answer<unknown>;
  row?: LogRow;
}

export const result = (name: string, status: Status, detail: string, fix?: string): Check => ({ name, status, detail, ...(fix ? { fix } : {}) });

const ADMIN_FIX = 'The log and workspace lookups need the admin key: set GATEHOUSE_ADMIN_KEY to the key the gateway was started with (or pass --data DIR).';

/** The gateway's workspace entry for the key (with its guardrails), looked up once. */
export async function workspaceOf(run: Run, id: string): Promise<WorkspaceView | null> {
  if (run.workspace !== undefined) return run.workspace;
  try {
    const { data } = await adminCall<{ data: WorkspaceView[] }>(run.admin, 'GET', '/api/admin/workspaces');
    run.workspace = data.find((w) => w.id === id) ?? null;
  } catch (e) {
    run.adminError = (e as Error).message;
    run.workspace = null;
  }
  return run.workspace;
}

/** What to do about a refused request, by what refused it. */
function hint(a: Answer<unknown>, run: Run): string {
  const e = failure(a);
  const code = e.code ?? '';
  if (a.status === 401) return 'The key is unknown, expired, revoked or rotated (the message says which): issue a new one with gatehouse keys create, or gatehouse keys rotate ID.';
  if (code.includes('model') || a.status === 404) return `Ask for a model this key and its provider serve with --model${run.me?.key.allowed_models ? ` (the key allows ${run.me.key.allowed_models.join(', ')})` : ''}.`;
  if (code.includes('metadata')) return 'Give the fields the key or workspace requires with --meta FIELD=VALUE.';
  if (a.status === 429) return 'A budget or rate limit stopped it: see gatehouse budgets; raise it or wait for the reset.';
  if (a.status === 403) return 'The key\'s workspace may not use this provider or model: check "providers" and "allowed_models" of the workspace in the gateway\'s config.';
  if (a.status >= 500) return 'The provider behind the gateway failed: check its base_url, network access and credentials in the gateway\'s config (gatehouse serve prints each provider\'s state), then GET /api/admin/circuits.';
  return 'Fix the request the message describes; the gateway\'s log row (gatehouse logs --meta checklist=...) has the details.';
}

function send(run: Run, content: string): Promise<Answer<unknown>> {
  return keyCall(run.url, run.key, 'POST', '/v1/messages', {
    headers: { 'anthropic-version': '2023-06-01', 'x-portkey-metadata': JSON.stringify(run.sent), 'x-portkey-trace-id': `checklist-${run.marker}` },
    body: { model: run.model, max_tokens: 8, messages: [{ role: 'user', content }] },
    timeoutMs: 120_000,
  });
}

/** The log row of the real request, found by its marker (stored before the response ended; a few tries for a slow disk). */
async function findRow(run: Run): Promise<void> {
  for (let attempt = 0; attempt < 5 && !run.row; attempt++) {
    if (attempt) await new Promise((r) => setTimeout(r, 200));
    const { data } = await adminCall<{ data: LogRow[] }>(run.admin, 'GET', `/api/admin/logs${queryString([['metadata.checklist', run.marker], ['limit', 5]])}`);
    run.row = data.find((r) => r.endpoint === 'messages');
  }
}

export async function realRequest(run: Run, me: Me): Promise<Check> {
  const name = 'a real request succeeds';
  const ws = await workspaceOf(run, me.workspace.id);
  // Fill what the key requires with placeholders; the key's own metadata wins at the gateway anyway.
  const needed = new Set([...me.key.required_metadata, ...(ws?.user_budget || ws?.user_limits || me.limits.user ? ['user'] : [])]);
  const fill = Object.fromEntries([...needed].filter((f) => !me.key.metadata[f] && !run.meta[f]).map((f) => [f, f === 'user' ? 'gatehouse-checklist' : 'checklist']));
  run.sent = { ...fill, ...run.meta, checklist: run.marker };
  const a = (run.answer = await send(run, 'Reply with the word OK.'));
  try {
    await findRow(run);
  } catch (e) {
    run.adminError = (e as Error).message;
  }
  if (a.status >= 400) {
    const e = failure(a);
    return result(name, 'fail', `the gateway answered ${a.status}${e.code ? ` (${e.code})` : ''} for ${run.model}`, `${e.gatewayMessage} ${hint(a, run)}`);
  }
  const r = run.row;
  const answered = r?.provider ? `@${r.provider} answered as ${r.served_model ?? r.model}${r.served_model && r.served_model !== run.model ? ` (asked for ${run.model})` : ''}` : `answered (${run.model}; the log row was not found, so the provider is unknown)`;
  return result(name, 'pass', `${a.status} in ${ms(a.ms)}: ${answered}`);
}

export function logged(run: Run, me: Me): Check {
  const name = 'the request is in the logs';
  const r = run.row;
  if (!r) {
    if (run.adminError) return result(name, 'fail', `could not read the logs: ${run.adminError}`, ADMIN_FIX);
    return result(name, 'fail', `no log row has metadata.checklist=${run.marker}`, 'GATEHOUSE_URL must be the gateway that served the request (not another instance behind a proxy), with a working database: check its startup output for log errors.');
  }
  const wrong = Object.entries(run.sent ?? {}).filter(([k, v]) => r.metadata[k] !== (me.key.metadata[k] ?? v));
  if (wrong.length) return result(name, 'fail', `log ${r.id} has metadata ${compactMeta(r.metadata, 200)}; expected ${wrong.map(([k, v]) => `${k}=${me.key.metadata[k] ?? v}`).join(' ')}`, 'Metadata must be a JSON object of strings in x-portkey-metadata; field names are case-sensitive.');
  if (r.status >= 400) return result(name, 'pass', `log ${r.id} with metadata ${compactMeta(r.metadata, 200)} (status ${r.status}: no tokens or cost, the request failed)`);
  if (r.input_tokens + r.output_tokens === 0) return result(name, 'fail', `log ${r.id} has no token counts`, 'The provider\'s answer carried no usage: check the provider in the gateway\'s config.');
  if (r.cost_usd === null) return result(name, 'fail', `log ${r.id}: ${int(r.input_tokens)}/${int(r.output_tokens)} tokens but no cost (model ${r.served_model ?? r.model} has no price)`, `Add the model under "pricing" in the gateway's config so its spend is counted.`);
  return result(name, 'pass', `log ${r.id}: metadata ${compactMeta(r.metadata, 200)}; ${int(r.input_tokens)} in/${int(r.output_tokens)} out tokens, ${usd(r.cost_usd)}`);
}

/** The guardrails that apply to the key's requests: the workspace's, and its routing config's. */
async function guardrailsOf(run: Run, me: Me, ws: WorkspaceView): Promise<string[]> {
  const rails = [...ws.guardrails];
  const configId = me.key.config ?? ws.default_config;
  if (configId) {
    try {
      const c = await adminCall<ConfigEntry>(run.admin, 'GET', `/api/admin/configs/${encodeURIComponent(configId)}`);
      rails.push(...(c.config.input_guardrails ?? []));
    } catch (e) {
      if (!(e instanceof ApiError && e.status === 404)) throw e;
    }
  }
  return [...new Set(rails)];
}

/**
 * Something shaped like an AWS access key id (AKIA + 16 upper-case letters and digits), made fresh
 * each run so no key-shaped string lives in the source; it authenticates nowhere.
 */
function canaryAccessKey(): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  return 'AKIA' + Array.from(randomBytes(16), (b) => alphabet[b % alphabet.length]).join('');
}

export async function guardrailTriggers(run: Run, me: Me): Promise<Check> {
  const name = 'a guardrail triggers on a canary';
  const ws = await workspaceOf(run, me.workspace.id);
  if (!ws) return result(name, 'fail', `could not read workspace "${me.workspace.id}": ${run.adminError ?? 'not found'}`, ADMIN_FIX);
  const rails = await guardrailsOf(run, me, ws);
  if (rails.length === 0) {
    return result(name, 'skip', `SKIP: no guardrail on workspace ${ws.id}`, `Add one in the gateway's config, e.g. "guardrails": {"no-secrets": {"type": "secrets", "action": "deny"}} and "guardrails": ["no-secrets"] under workspaces.${ws.id}.`);
  }
  const a = await send(run, `Checklist canary, not a real secret: ${canaryAccessKey()} (contact checklist@example.com).`);
  const seen = a.headers.get('x-gatehouse-guardrails');
  if (a.status === 400 && failure(a).code === 'guardrail_denied') return result(name, 'pass', `a fake AWS key was denied (400): ${failure(a).gatewayMessage}`);
  if (a.status < 400 && seen) return result(name, 'pass', `a fake AWS key went through with x-gatehouse-guardrails: ${seen}`);
  if (a.status < 400) return result(name, 'fail', `${rails.join(', ')} let a fake AWS access key through (status ${a.status}, no x-gatehouse-guardrails header)`, 'To catch secrets use a guardrail {"type": "secrets", "action": "deny"} (or "redact"); check its id is listed under the workspace\'s "guardrails".');
  const e = failure(a);
  return result(name, 'fail', `the canary was answered ${a.status}${e.code ? ` (${e.code})` : ''}, not by a guardrail`, `${e.gatewayMessage} ${hint(a, run)}`);
}
