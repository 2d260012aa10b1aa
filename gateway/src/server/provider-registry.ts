import { apiProvider, ApiProviderBody, type ApiProviderConfig } from '../providers/api-provider.js';
import type { Provider } from '../providers/types.js';
import { open, seal, type DataKey } from '../store/secret-box.js';
import type { Store } from '../store/types.js';
import { errors } from '../wire/errors.js';

/** What the admin API shows of a provider: never a credential, only the names of those it has. */
export interface ProviderView {
  id: string;
  kind: Provider['kind'];
  source: 'file' | 'api';
  origin: string;
  models: readonly string[];
  ready: boolean;
  problem: string | null;
  /** API providers: the settings as given, without the credentials. */
  settings?: Record<string, unknown>;
  /** API providers: each credential's name, with "set". */
  credentials?: Record<string, 'set'>;
  updated_at?: string;
}

interface ApiEntry {
  settings: Omit<ApiProviderConfig, 'credentials'>;
  credentialNames: string[];
  updated_at: string;
}

/**
 * Every provider: the config file's (fixed while the gateway runs) and those created through the
 * admin API (stored with their credentials sealed). `providers` is one live map that requests,
 * `/v1/models`, metrics and routing configs all read, so a change is seen by the next request.
 */
export class ProviderRegistry {
  readonly #all: Map<string, Provider>;
  readonly #file: ReadonlySet<string>;
  readonly #api = new Map<string, ApiEntry>();

  constructor(
    file: ReadonlyMap<string, Provider>,
    private readonly key: DataKey,
  ) {
    this.#all = new Map(file);
    this.#file = new Set(file.keys());
  }

  get providers(): ReadonlyMap<string, Provider> {
    return this.#all;
  }

  isFile(id: string): boolean {
    return this.#file.has(id);
  }

  isApi(id: string): boolean {
    return this.#api.has(id);
  }

  /**
   * Decrypts the stored providers; a key that does not open them stops the start. Also a reload
   * (another instance changed the store): providers no longer stored are dropped, unchanged ones kept.
   */
  async load(store: Store): Promise<void> {
    const rows = await store.listProviders();
    const stored = new Set(rows.map((r) => r.id));
    for (const id of this.#api.keys()) {
      if (stored.has(id)) continue;
      this.#api.delete(id);
      this.#all.delete(id);
    }
    for (const row of rows) {
      // A provider added to the file since wins over a stored one of the same id.
      if (this.#file.has(row.id) || this.#api.get(row.id)?.updated_at === row.updated_at) continue;
      const plain = open(this.key, row.secret, row.id);
      if (plain === undefined) {
        throw new Error(`The stored credentials of provider "${row.id}" cannot be decrypted with ${this.key.source}: it is not the key they were encrypted with. Start with that key (GATEHOUSE_SECRET_KEY), or delete the provider through the admin API first.`);
      }
      // Stored providers were valid when written; one that no longer is stays out (like configs).
      const parsed = ApiProviderBody.safeParse({ ...(JSON.parse(row.settings) as object), credentials: JSON.parse(plain) as unknown });
      if (parsed.success) this.#set(row.id, apiProvider(row.id, parsed.data), parsed.data, row.updated_at);
    }
  }

  async put(store: Store, id: string, cfg: ApiProviderConfig): Promise<ProviderView> {
    if (this.#file.has(id)) throw errors.conflict(`Provider ${id} is defined in the config file; change it there.`);
    const { credentials, ...settings } = cfg;
    const updated_at = new Date().toISOString();
    // Built before storing: a provider the factories refuse is not stored either.
    const provider = apiProvider(id, cfg);
    await store.putProvider({ id, kind: cfg.kind, settings: JSON.stringify(settings), secret: seal(this.key, JSON.stringify(credentials), id), updated_at });
    this.#set(id, provider, cfg, updated_at);
    return this.view(id)!;
  }

  async delete(store: Store, id: string): Promise<boolean> {
    if (this.#file.has(id)) throw errors.conflict(`Provider ${id} is defined in the config file; remove it there.`);
    if (!this.#api.delete(id)) return false;
    this.#all.delete(id);
    await store.deleteProvider(id);
    return true;
  }

  view(id: string): ProviderView | undefined {
    const p = this.#all.get(id);
    if (!p) return undefined;
    const base: ProviderView = { id, kind: p.kind, source: this.#file.has(id) ? 'file' : 'api', origin: p.origin, models: p.models, ready: p.unavailable === undefined, problem: p.unavailable ?? null };
    const api = this.#api.get(id);
    if (!api) return base;
    const { kind: _kind, ...settings } = api.settings;
    return { ...base, settings, credentials: Object.fromEntries(api.credentialNames.map((n) => [n, 'set' as const])), updated_at: api.updated_at };
  }

  list(): ProviderView[] {
    return [...this.#all.keys()].map((id) => this.view(id)!);
  }

  #set(id: string, provider: Provider, cfg: ApiProviderConfig, updated_at: string): void {
    const { credentials, ...settings } = cfg;
    this.#all.set(id, provider);
    this.#api.set(id, { settings, credentialNames: Object.keys(credentials), updated_at });
  }
}
