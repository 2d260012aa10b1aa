import type { Store } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { providerRefs, RouteNodeSchema, type RouteNode } from './config-schema.js';

export interface ConfigEntry {
  id: string;
  source: 'file' | 'api';
  config: RouteNode;
}

/**
 * Every named routing config: the file's (fixed while the gateway runs) and those created
 * through the admin API (stored, so they survive restarts). Both are checked by the same schema.
 */
export class ConfigRegistry {
  readonly #api = new Map<string, RouteNode>();

  constructor(
    private readonly file: Readonly<Record<string, RouteNode>>,
    private readonly providers: ReadonlySet<string>,
  ) {}

  async load(store: Store): Promise<void> {
    for (const c of await store.listConfigs()) {
      // Stored configs were valid when written; one that no longer is (a provider removed from the
      // file) still loads, and requests using it get the provider's error.
      const parsed = RouteNodeSchema.safeParse(JSON.parse(c.body));
      if (parsed.success) this.#api.set(c.id, parsed.data);
    }
  }

  get(id: string): RouteNode | undefined {
    return this.file[id] ?? this.#api.get(id);
  }

  has(id: string): boolean {
    return this.get(id) !== undefined;
  }

  list(): ConfigEntry[] {
    return [
      ...Object.entries(this.file).map(([id, config]) => ({ id, source: 'file' as const, config })),
      ...[...this.#api].map(([id, config]) => ({ id, source: 'api' as const, config })),
    ];
  }

  /** Validates a config (each problem by path) against the schema and this gateway's providers. */
  validate(raw: unknown, where = 'config'): RouteNode {
    const parsed = RouteNodeSchema.safeParse(raw);
    if (!parsed.success) throw errors.invalidParam(parsed.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`).join('; '));
    const unknown = providerRefs(parsed.data, where).filter((r) => !this.providers.has(r.slug));
    if (unknown.length) throw errors.invalidParam(unknown.map((r) => `${r.path}.provider: @${r.slug} is not a provider of this gateway`).join('; '));
    return parsed.data;
  }

  async put(store: Store, id: string, raw: unknown): Promise<ConfigEntry> {
    if (id in this.file) throw errors.conflict(`Config ${id} is defined in the gateway's config file; change it there.`);
    const config = this.validate(raw);
    await store.putConfig({ id, body: JSON.stringify(config), updated_at: new Date().toISOString() });
    this.#api.set(id, config);
    return { id, source: 'api', config };
  }

  async delete(store: Store, id: string): Promise<boolean> {
    if (id in this.file) throw errors.conflict(`Config ${id} is defined in the gateway's config file; remove it there.`);
    this.#api.delete(id);
    return store.deleteConfig(id);
  }
}
