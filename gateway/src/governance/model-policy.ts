import type { Provider } from '../providers/types.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';

const compiled = new Map<string, RegExp>();

/** `claude-sonnet-*` style patterns: `*` matches any run of characters, nothing else is special. */
export function modelPattern(pattern: string): RegExp {
  let re = compiled.get(pattern);
  if (!re) {
    re = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
    // Patterns come from keys, a bounded set; the cap only guards against surprises.
    if (compiled.size > 10_000) compiled.clear();
    compiled.set(pattern, re);
  }
  return re;
}

const matchesAny = (patterns: readonly string[] | null | undefined, model: string) => !patterns || patterns.some((p) => modelPattern(p).test(model));

/** Allowed by the key's patterns and by its workspace's. */
export function modelAllowed(key: KeyRecord | undefined, model: string, workspacePatterns?: readonly string[]): boolean {
  return matchesAny(key?.allowed_models, model) && matchesAny(workspacePatterns, model);
}

/** A key limited to some models may not ask for another (what a routing config then sends is the admin's choice). */
export function checkModelAllowed(key: KeyRecord | undefined, model: string | undefined, workspace?: { slug: string; patterns?: readonly string[] }): void {
  if (model === undefined) return;
  if (!matchesAny(key?.allowed_models, model)) throw errors.modelNotAllowed(model, 'this key', key?.allowed_models ?? []);
  if (workspace && !matchesAny(workspace.patterns, model)) throw errors.modelNotAllowed(model, `workspace "${workspace.slug}"`, workspace.patterns ?? []);
}

/** The providers whose models a key may list (its own provider when it has one; else all). */
export function providersForKey(providers: ReadonlyMap<string, Provider>, key: KeyRecord | undefined): Provider[] {
  if (key?.provider) {
    const p = providers.get(key.provider);
    return p ? [p] : [];
  }
  return [...providers.values()];
}
