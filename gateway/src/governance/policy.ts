import type { BudgetConfig, GatehouseConfig, LimitsConfig, WorkspaceConfig } from '../config/schema.js';
import type { RouteNode } from '../routing/config-schema.js';
import { providerRefs } from '../routing/config-schema.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import type { Meter } from './budgets.js';
import type { LimitSpec } from './rate-limit.js';

/**
 * Which budgets and limits a request falls under: its key's, its workspace's, and, when the
 * workspace sets them, its developer's (the `user` metadata field, which an admin can pin on the
 * key so a developer cannot change it). Pure: the budget defaults, the workspace and the key decide.
 */

export interface Scopes {
  meters: Meter[];
  limits: LimitSpec[];
}

export function meters(scope: string, label: string, b: BudgetConfig | undefined, tz: string, defaults: readonly number[]): Meter[] {
  if (!b) return [];
  const thresholds = b.alert_thresholds ?? defaults;
  const out: Meter[] = [];
  if (b.usd !== undefined) out.push({ scope, label, unit: 'usd', limit: b.usd, period: b.period, tz, thresholds });
  if (b.tokens !== undefined) out.push({ scope, label, unit: 'tokens', limit: b.tokens, period: b.period, tz, thresholds });
  return out;
}

export const limit = (scope: string, label: string, l: LimitsConfig | undefined): LimitSpec[] => (l && (l.rpm || l.tpm || l.max_concurrent) ? [{ scope, label, ...l }] : []);

/** What scopesFor decides from: the gateway's budget defaults and the key's workspace (undefined: none). */
export interface ScopePolicy {
  budgets: Readonly<GatehouseConfig['budgets']>;
  workspace: Readonly<WorkspaceConfig> | undefined;
}

export function scopesFor(policy: ScopePolicy, key: KeyRecord | undefined, metadata: Readonly<Record<string, string>>): Scopes {
  if (!key) return { meters: [], limits: [] };
  const slug = key.workspace;
  const ws = policy.workspace;
  const tz = ws?.timezone ?? policy.budgets.timezone;
  const thresholds = policy.budgets.alert_thresholds;
  const keyLabel = `key "${key.name}"`;
  const keyBudget: BudgetConfig | undefined =
    key.budget_usd !== null || key.budget_tokens !== null
      ? { usd: key.budget_usd ?? undefined, tokens: key.budget_tokens ?? undefined, period: key.budget_period }
      : undefined;
  const out: Scopes = {
    meters: [...meters(`key:${key.id}`, keyLabel, keyBudget, tz, thresholds), ...meters(`ws:${slug}`, `workspace "${slug}"`, ws?.budget, tz, thresholds)],
    limits: [...limit(`key:${key.id}`, keyLabel, { rpm: key.rpm ?? undefined, tpm: key.tpm ?? undefined, max_concurrent: key.max_concurrent ?? undefined }), ...limit(`ws:${slug}`, `workspace "${slug}"`, ws?.limits)],
  };
  if (ws && (ws.user_budget || ws.user_limits)) {
    const user = metadata.user;
    if (!user) throw errors.userMetadataRequired(slug);
    const label = `user "${user}" in workspace "${slug}"`;
    out.meters.push(...meters(`user:${slug}:${user}`, label, ws.user_budget, tz, thresholds));
    out.limits.push(...limit(`user:${slug}:${user}`, label, ws.user_limits));
  }
  return out;
}

/** A workspace limited to some providers may reach no other, whichever way a request names it. */
export function checkProviders(ws: { slug: string; providers?: readonly string[] } | undefined, route: RouteNode, defaultSlug: string | undefined): void {
  const allowed = ws?.providers;
  if (!ws || !allowed) return;
  const named = providerRefs(route).map((r) => r.slug);
  // Targets that name no provider use the default one.
  const usesDefault = needsDefault(route);
  for (const slug of usesDefault && defaultSlug ? [...named, defaultSlug] : named) {
    if (!allowed.includes(slug)) throw errors.providerNotAllowed(slug, ws.slug, [...allowed]);
  }
}

function needsDefault(node: RouteNode): boolean {
  if (node.targets?.length) return node.targets.some(needsDefault);
  return !node.provider;
}
