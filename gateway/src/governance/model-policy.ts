import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';

/** `claude-sonnet-*` style patterns: `*` matches any run of characters, nothing else is special. */
export function modelPattern(pattern: string): RegExp {
  return new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
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
