import type { Provider } from '../providers/types.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';

/**
 * Which provider serves a call: `x-portkey-provider: @slug` first, then the key's default, then
 * the config's `default_provider`, then the only provider if there is just one.
 */
export function pickProvider(
  providers: ReadonlyMap<string, Provider>,
  header: string | string[] | undefined,
  key: KeyRecord | undefined,
  configDefault: string | undefined,
): Provider {
  const asked = typeof header === 'string' && header.trim() ? header.trim().replace(/^@/, '') : undefined;
  const slug = asked ?? key?.provider ?? configDefault ?? (providers.size === 1 ? [...providers.keys()][0] : undefined);
  if (slug === undefined) throw errors.noProvider([...providers.keys()]);
  const provider = providers.get(slug);
  if (!provider) throw errors.unknownProvider(slug, [...providers.keys()]);
  if (provider.unavailable !== undefined) throw errors.providerNotConfigured(slug, provider.unavailable);
  return provider;
}

/** The providers a key may reach (its own when it has one; else all). */
export function providersForKey(providers: ReadonlyMap<string, Provider>, key: KeyRecord | undefined): Provider[] {
  if (key?.provider) {
    const p = providers.get(key.provider);
    return p ? [p] : [];
  }
  return [...providers.values()];
}
