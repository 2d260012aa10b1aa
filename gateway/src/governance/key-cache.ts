import type { SecretMatch, Store } from '../store/types.js';
import { StoreUnavailableError } from '../store/unavailable.js';
import { errors } from '../wire/errors.js';

/**
 * Key lookups, cached briefly in memory so a request does not touch the database. Admin changes
 * made through this instance clear the cache at once; changes made elsewhere (another instance,
 * scale-out) are seen within `ttlMs`.
 */
export class KeyCache {
  readonly #entries = new Map<string, { match: SecretMatch | undefined; until: number }>();

  constructor(
    private readonly store: Store,
    private readonly ttlMs = 1_000,
    private readonly maxEntries = 50_000,
  ) {}

  async find(hash: string, now = Date.now()): Promise<SecretMatch | undefined> {
    const hit = this.#entries.get(hash);
    if (hit && hit.until > now) return hit.match;
    let match: SecretMatch | undefined;
    try {
      match = await this.store.findKeyBySecretHash(hash);
    } catch (e) {
      if (!(e instanceof StoreUnavailableError)) throw e;
      // While the database is unreachable, a key this instance has already seen keeps its last
      // answer (clear() still drops it, so a revocation notice is honoured); the entry is not
      // renewed, so the database is asked again on the next request. Unseen keys cannot be checked.
      if (hit?.match) return hit.match;
      throw errors.storeUnavailable(e.endpoint ?? 'its configured address', 'check this key', e);
    }
    // Unknown hashes are cached too, so a client hammering with a wrong key costs no queries.
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(hash, { match, until: now + this.ttlMs });
    return match;
  }

  clear(): void {
    this.#entries.clear();
  }
}
