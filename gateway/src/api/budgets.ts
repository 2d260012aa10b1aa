import type { FastifyInstance } from 'fastify';
import type { Meter } from '../governance/budgets.js';
import { meters, scopesFor } from '../governance/policy.js';
import type { Runtime } from '../server/runtime.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { keyView } from './admin-keys.js';
import type { BudgetView } from './schemas.js';

/** Where a budget stands now: what its period has spent, what requests in flight hold, what is left. */
export async function budgetView(rt: Runtime, m: Meter, now = Date.now()): Promise<BudgetView> {
  const s = await rt.budgets.state(m, now);
  return {
    scope: m.scope,
    label: m.label,
    unit: m.unit,
    limit: m.limit,
    period: m.period,
    timezone: m.tz,
    period_key: s.window.key,
    period_start: s.window.end === null ? null : new Date(s.window.start).toISOString(),
    resets_at: s.window.end === null ? null : new Date(s.window.end).toISOString(),
    spent: s.spent,
    reserved: s.reserved,
    remaining: Math.max(0, m.limit - s.spent - s.reserved),
  };
}

/** Every budget that can apply: keys', workspaces', and those of developers who have spent this period. */
async function allMeters(rt: Runtime, workspace?: string): Promise<Meter[]> {
  const { budgets } = rt.config;
  const keys = await rt.store.listKeys({ workspace, includeRevoked: false });
  const out: Meter[] = [];
  for (const k of keys) out.push(...keyMeters(rt, k));
  for (const { id: slug, def: ws } of rt.policies.listWorkspaces()) {
    if (workspace && slug !== workspace) continue;
    const tz = ws.timezone ?? budgets.timezone;
    out.push(...meters(`ws:${slug}`, `workspace "${slug}"`, ws.budget, tz, budgets.alert_thresholds));
    if (!ws.user_budget) continue;
    const users = new Set((await rt.store.listSpend({ scopePrefix: `user:${slug}:` })).map((r) => r.scope.slice(`user:${slug}:`.length)));
    for (const u of users) out.push(...meters(`user:${slug}:${u}`, `user "${u}" in workspace "${slug}"`, ws.user_budget, tz, budgets.alert_thresholds));
  }
  return out;
}

function keyMeters(rt: Runtime, k: KeyRecord): Meter[] {
  // Only the key's own budget: with no workspace, scopesFor adds no workspace or developer meter.
  return scopesFor({ budgets: rt.config.budgets, workspace: undefined }, k, {}).meters;
}

/** A workspace's own budgets (not its developers'). */
function workspaceMeters(rt: Runtime, slug: string): Meter[] {
  const ws = rt.policies.workspace(slug);
  return meters(`ws:${slug}`, `workspace "${slug}"`, ws?.budget, ws?.timezone ?? rt.config.budgets.timezone, rt.config.budgets.alert_thresholds);
}

/** Keys' and workspaces' budgets, not developers' (their names are metadata values): what metrics report. */
export async function keyAndWorkspaceMeters(rt: Runtime): Promise<Meter[]> {
  const keys = await rt.store.listKeys({ includeRevoked: false });
  const ws = rt.policies.workspaceIds().flatMap((slug) => workspaceMeters(rt, slug));
  return [...keys.flatMap((k) => keyMeters(rt, k)), ...ws];
}

/** One entry of `GET /api/admin/workspaces` (and the answer of `PUT /api/admin/workspaces/:id`). */
export async function workspaceView(rt: Runtime, slug: string, now = Date.now()) {
  const ws = rt.policies.workspace(slug);
  const budgets = await Promise.all(workspaceMeters(rt, slug).map((m) => budgetView(rt, m, now)));
  return {
    id: slug,
    source: rt.policies.workspaceSource(slug),
    name: ws?.name ?? slug,
    description: ws?.description ?? null,
    providers: ws?.providers ?? null,
    allowed_models: ws?.allowed_models ?? null,
    default_config: ws?.default_config ?? null,
    limits: ws?.limits ?? null,
    budget: ws?.budget ?? null,
    user_budget: ws?.user_budget ?? null,
    user_limits: ws?.user_limits ?? null,
    guardrails: ws?.guardrails ?? [],
    budgets,
  };
}

export function adminBudgetRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get<{ Querystring: { workspace?: string } }>('/budgets', async (req) => {
      const now = Date.now();
      return { data: await Promise.all((await allMeters(rt, req.query.workspace)).map((m) => budgetView(rt, m, now))) };
    });

    app.get('/workspaces', async () => {
      const now = Date.now();
      return { data: await Promise.all(rt.policies.workspaceIds().map((slug) => workspaceView(rt, slug, now))) };
    });
  };
}

/**
 * How a developer's client should be set up for this key: the metadata to send (the workspace's
 * template, with the fields the key pins filled and the fields it requires listed), the model
 * settings, and the headers to add. The extension and `gatehouse connect` write these into
 * Claude Code's settings.
 */
function onboardingProfile(rt: Runtime, key: KeyRecord) {
  const o = rt.policies.workspace(key.workspace)?.onboarding;
  const headers: Record<string, string> = { ...(o?.headers ?? {}) };
  if (key.config && !headers['x-portkey-config']) headers['x-portkey-config'] = key.config;
  if (key.provider && !headers['x-portkey-provider']) headers['x-portkey-provider'] = `@${key.provider}`;
  const template = { ...(o?.metadata_template ?? {}) };
  for (const f of key.required_metadata) template[f] ??= '';
  // Fields the key pins are set by the gateway; the client need not (and cannot) send them.
  for (const f of Object.keys(key.metadata)) delete template[f];
  return { metadata_template: template, required_metadata: key.required_metadata, models: o?.models ?? {}, headers };
}

/** What a developer's own key may see about itself: its policy, its budgets and their spend. */
export function meRoutes(rt: Runtime) {
  return async (app: FastifyInstance): Promise<void> => {
    app.get('/me', async (req) => {
      const key = req.gatehouseKey;
      if (!key) throw errors.missingKey();
      const header = req.headers['x-portkey-metadata'];
      let metadata: Record<string, string> = { ...key.metadata };
      try {
        if (typeof header === 'string' && header.trim()) metadata = { ...(JSON.parse(header) as Record<string, string>), ...key.metadata };
      } catch {
        // The profile is still useful without the developer's own metadata.
      }
      const ws = rt.policies.workspace(key.workspace);
      let scoped: Meter[];
      try {
        scoped = scopesFor({ budgets: rt.config.budgets, workspace: ws }, key, metadata).meters;
      } catch {
        scoped = keyMeters(rt, key).concat(workspaceMeters(rt, key.workspace));
      }
      const now = Date.now();
      const { id, name, workspace, prefix, allowed_models, required_metadata, rpm, tpm, max_concurrent, expires_at, status, provider, config } = keyView(key);
      return {
        key: { id, name, prefix, status, expires_at, provider, config, allowed_models, required_metadata, metadata: key.metadata },
        workspace: { id: workspace, name: ws?.name ?? workspace, allowed_models: ws?.allowed_models ?? null, providers: ws?.providers ?? null },
        limits: { key: { rpm, tpm, max_concurrent }, workspace: ws?.limits ?? null, user: ws?.user_limits ?? null },
        budgets: await Promise.all(scoped.map((m) => budgetView(rt, m, now))),
        profile: onboardingProfile(rt, key),
      };
    });
  };
}
