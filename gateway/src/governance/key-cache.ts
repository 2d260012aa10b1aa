import type { SecretMatch, Store } from '../store/types.js';

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
    const match = await this.store.findKeyBySecretHash(hash);
    // Unknown hashes are cached too, so a client hammering with a wrong key costs no queries.
    if (this.#entries.size >= this.maxEntries) this.#entries.clear();
    this.#entries.set(hash, { match, until: now + this.ttlMs });
    return match;
  }

  clear(): void {
    this.#entries.clear();
  }
}
