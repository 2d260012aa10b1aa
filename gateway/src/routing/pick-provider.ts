import type { Provider } from '../providers/types.js';
import type { KeyRecord } from '../store/types.js';

/** The providers a key may reach (its own when it has one; else all). */
export function providersForKey(providers: ReadonlyMap<string, Provider>, key: KeyRecord | undefined): Provider[] {
  if (key?.provider) {
    const p = providers.get(key.provider);
    return p ? [p] : [];
  }
  return [...providers.values()];
}
