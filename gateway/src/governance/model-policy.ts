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

export function modelAllowed(key: KeyRecord | undefined, model: string): boolean {
  const patterns = key?.allowed_models;
  return !patterns || patterns.some((p) => modelPattern(p).test(model));
}

/** A key limited to some models may not ask for another (what a routing config then sends is the admin's choice). */
export function checkModelAllowed(key: KeyRecord | undefined, model: string | undefined): void {
  if (model === undefined || modelAllowed(key, model)) return;
  throw errors.modelNotAllowed(model, key?.allowed_models ?? []);
}

/** The providers whose models a key may list (its own provider when it has one; else all). */
export function providersForKey(providers: ReadonlyMap<string, Provider>, key: KeyRecord | undefined): Provider[] {
  if (key?.provider) {
    const p = providers.get(key.provider);
    return p ? [p] : [];
  }
  return [...providers.values()];
}
