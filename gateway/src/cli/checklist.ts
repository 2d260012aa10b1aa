import { randomBytes } from 'node:crypto';
import { adminTarget, call, failure, keyCall } from './admin-client.js';
import { guardrailTriggers, logged, realRequest, result, type Check, type Me, type Run } from './checklist-checks.js';
import { metaFlags, parseFlags } from './flags.js';
import { amount, ms, time } from './table.js';
import { budgetText, limitsText } from './workspaces.js';

/**
 * `gatehouse checklist --key KEY`: the admin guide's pre-launch checks, run against a live gateway
 * with the key a developer will get. Exit 0 when nothing failed (a skip is a warning).
 */

const FLAGS = {
  key: { type: 'string' },
  model: { type: 'string', default: 'claude-haiku-5-5' },
  meta: { type: 'string', multiple: true },
  data: { type: 'string' },
  json: { type: 'boolean', default: false },
} as const;

async function gatewayAnswers(run: Run): Promise<Check> {
  const name = 'the gateway answers';
  const v1 = /\/v1$/.test(run.url) ? ' GATEHOUSE_URL must be the base URL: drop the trailing /v1.' : '';
  const health = await call<{ status?: string }>(run.url, undefined, 'GET', '/healthz', { timeoutMs: 10_000 });
  if (health.status !== 200 || health.body?.status !== 'ok') return result(name, 'fail', `GET ${run.url}/healthz answered ${health.status}, not a Gatehouse health check`, `GATEHOUSE_URL must point at the gateway itself (scheme, host and port; no path).${v1}`);
  const ready = await call<{ status?: string }>(run.url, undefined, 'GET', '/readyz', { timeoutMs: 10_000 });
  if (ready.status !== 200) return result(name, 'fail', `/readyz answered ${ready.status} (${ready.body?.status ?? ready.text.trim()})`, ready.body?.status === 'store_unavailable' ? 'The gateway cannot reach its database; check PostgreSQL (store.url), then run the checklist again.' : 'The gateway is shutting down; run the checklist again once it has restarted.');
  return result(name, 'pass', `/healthz ok and /readyz ready at ${run.url} (${ms(health.ms + ready.ms)})`);
}

async function keyAuthenticates(run: Run): Promise<Check> {
  const name = 'the key authenticates';
  const a = await keyCall<Me>(run.url, run.key, 'GET', '/api/me', { timeoutMs: 10_000 });
  if (a.status !== 200 || !a.body) {
    const e = failure(a);
    const fix = a.status === 401 || a.status === 403
      ? 'Use a Gatehouse key (ghk_...), not the admin key; an unknown, expired, revoked or rotated key needs replacing: gatehouse keys create, or gatehouse keys rotate ID.'
      : 'GATEHOUSE_URL must point at the gateway itself.';
    return result(name, 'fail', `GET /api/me answered ${a.status}: ${e.gatewayMessage}`, fix);
  }
  const me = (run.me = a.body);
  const k = me.key;
  const expires = k.expires_at ? `expires ${time(k.expires_at)}` : 'never expires';
  return result(name, 'pass', `${k.id} (${k.name}) in workspace "${me.workspace.id}"; ${expires}; ${limitsAndBudgets(me)}`);
}

function limitsAndBudgets(me: Me): string {
  const { limits } = me;
  const parts = [
    (limits.key.rpm || limits.key.tpm || limits.key.max_concurrent) && `key limits ${limitsText({ rpm: limits.key.rpm ?? undefined, tpm: limits.key.tpm ?? undefined, max_concurrent: limits.key.max_concurrent ?? undefined })}`,
    limits.workspace && `workspace limits ${limitsText(limits.workspace)}`,
    limits.user && `per-user limits ${limitsText(limits.user)}`,
    me.budgets.length ? `budgets ${me.budgets.map((b) => `${b.label} ${budgetText(b)}`).join(', ')}` : 'no budget',
  ];
  return parts.filter(Boolean).join('; ');
}

/** Informational: what stops runaway spend for this key, as it stands after the checks' own requests. */
async function limitsReported(run: Run): Promise<Check> {
  const name = 'budgets and rate limits';
  const a = await keyCall<Me>(run.url, run.key, 'GET', '/api/me', { timeoutMs: 10_000 });
  const me = a.status === 200 && a.body ? a.body : run.me!;
  const l = me.limits;
  const any = me.budgets.length > 0 || l.workspace || l.user || l.key.rpm || l.key.tpm || l.key.max_concurrent;
  if (!any) return result(name, 'skip', `no budget or rate limit applies to this key (workspace ${me.workspace.id})`, 'Give the key a budget and limits (gatehouse keys update ID --budget-usd 25 --budget-period day --rpm 60) or the workspace a "budget" and "limits" in the config.');
  const spent = me.budgets.filter((b) => b.remaining <= 0).map((b) => `${b.label} is spent (${amount(b.unit, b.spent)} of ${amount(b.unit, b.limit)}, resets ${time(b.resets_at)})`);
  return result(name, 'pass', [limitsAndBudgets(me), ...spent].join('; '));
}

/** In order; when a step with `stops` fails, the rest are not run (they are reported as skipped, saying why). */
const STEPS: Array<{ name: string; run: (r: Run) => Promise<Check> | Check; stops?: string }> = [
  { name: 'the gateway answers', run: gatewayAnswers, stops: 'the gateway did not answer' },
  { name: 'the key authenticates', run: keyAuthenticates, stops: 'the key did not authenticate' },
  { name: 'a real request succeeds', run: (r) => realRequest(r, r.me!) },
  { name: 'the request is in the logs', run: (r) => logged(r, r.me!) },
  { name: 'a guardrail triggers on a canary', run: (r) => guardrailTriggers(r, r.me!) },
  { name: 'budgets and rate limits', run: limitsReported },
];

const print = (c: Check): void => console.log(`${c.status.toUpperCase().padEnd(4)}  ${c.name.padEnd(34)}${c.detail}${c.fix && c.status !== 'pass' ? `\n${' '.repeat(6)}fix: ${c.fix}` : ''}`);

export async function runChecklist(argv: string[]): Promise<number> {
  const { values, positionals } = parseFlags('checklist', argv, FLAGS);
  if (positionals.length) throw new Error(`checklist takes flags only; got "${positionals[0]}" (gatehouse --help).`);
  if (!values.key) throw new Error('checklist needs --key KEY: the Gatehouse key (ghk_...) a developer will use.');
  const admin = adminTarget(values.data);
  const run: Run = { url: admin.url, key: values.key, model: values.model, admin, marker: `chk_${randomBytes(6).toString('hex')}`, meta: metaFlags('--meta', values.meta) };
  if (!values.json) console.log(`Pre-launch checklist for ${run.url} with key ${values.key.slice(0, 10)}… (marker ${run.marker})\n`);

  const checks: Check[] = [];
  let stopped: string | undefined;
  for (const step of STEPS) {
    let c: Check;
    if (stopped) c = result(step.name, 'skip', `not run: ${stopped}`);
    else {
      try {
        c = await step.run(run);
      } catch (e) {
        c = result(step.name, 'fail', (e as Error).message, 'Check GATEHOUSE_URL and that the gateway is running (gatehouse serve).');
      }
    }
    c.name = step.name;
    if (c.status === 'fail' && step.stops) stopped ??= step.stops;
    checks.push(c);
    if (!values.json) print(c);
  }

  const failed = checks.filter((c) => c.status === 'fail').length;
  const skipped = checks.filter((c) => c.status === 'skip').length;
  if (values.json) console.log(JSON.stringify({ checks }));
  else console.log(`\n${failed ? `${failed} check${failed > 1 ? 's' : ''} failed` : 'Ready: every check passed'}${skipped ? ` (${skipped} skipped)` : ''}.`);
  return failed ? 1 : 0;
}
