import type { Store } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { providerRefs, RouteNodeSchema, type RouteNode } from './config-schema.js';

export interface ConfigEntry {
  id: string;
  source: 'file' | 'api';
  /** Only keys of this workspace may use it; null for every workspace (the file's configs). */
  workspace: string | null;
  config: RouteNode;
}

/**
 * Every named routing config: the file's (fixed while the gateway runs) and those created
 * through the admin API (stored, so they survive restarts). Both are checked by the same schema.
 */
export class ConfigRegistry {
  readonly #api = new Map<string, { config: RouteNode; workspace: string | null }>();

  constructor(
    private readonly file: Readonly<Record<string, RouteNode>>,
    /** Live: providers added through the admin API count as soon as they exist. */
    private readonly providers: { has(slug: string): boolean },
    private readonly guardrails: { has(id: string): boolean } = { has: () => false },
  ) {}

  /** Also a reload (another instance changed the store): configs no longer stored are dropped. */
  async load(store: Store): Promise<void> {
    const rows = await store.listConfigs();
    const stored = new Set(rows.map((c) => c.id));
    for (const id of this.#api.keys()) if (!stored.has(id)) this.#api.delete(id);
    for (const c of rows) {
      // Stored configs were valid when written; one that no longer is (a provider removed from the
      // file) still loads, and requests using it get the provider's error.
      const parsed = RouteNodeSchema.safeParse(JSON.parse(c.body));
      if (parsed.success) this.#api.set(c.id, { config: parsed.data, workspace: c.workspace });
    }
  }

  /** A config by id; with a workspace, only one that workspace may use (another's is not there). */
  get(id: string, workspace?: string): RouteNode | undefined {
    const own = this.file[id];
    if (own) return own;
    const api = this.#api.get(id);
    return api && (workspace === undefined || api.workspace === null || api.workspace === workspace) ? api.config : undefined;
  }

  has(id: string, workspace?: string): boolean {
    return this.get(id, workspace) !== undefined;
  }

  list(workspace?: string): ConfigEntry[] {
    return [
      ...Object.entries(this.file).map(([id, config]) => ({ id, source: 'file' as const, workspace: null, config })),
      ...[...this.#api].map(([id, e]) => ({ id, source: 'api' as const, workspace: e.workspace, config: e.config })),
    ].filter((e) => workspace === undefined || e.workspace === null || e.workspace === workspace);
  }

  /** Validates a config (each problem by path) against the schema and this gateway's providers. */
  validate(raw: unknown, where = 'config'): RouteNode {
    const parsed = RouteNodeSchema.safeParse(raw);
    if (!parsed.success) throw errors.invalidParam(parsed.error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`).join('; '));
    const unknown = providerRefs(parsed.data, where).filter((r) => !this.providers.has(r.slug));
    if (unknown.length) throw errors.invalidParam(unknown.map((r) => `${r.path}.provider: @${r.slug} is not a provider of this gateway`).join('; '));
    const rails = (parsed.data.input_guardrails ?? []).filter((g) => !this.guardrails.has(g));
    if (rails.length) throw errors.invalidParam(rails.map((g) => `${where}.input_guardrails: "${g}" is not a guardrail of this gateway`).join('; '));
    return parsed.data;
  }

  async put(store: Store, id: string, raw: unknown, workspace: string | null = null): Promise<ConfigEntry> {
    if (id in this.file) throw errors.conflict(`Config ${id} is defined in the gateway's config file; change it there.`);
    const config = this.validate(raw);
    await store.putConfig({ id, body: JSON.stringify(config), workspace, updated_at: new Date().toISOString() });
    this.#api.set(id, { config, workspace });
    return { id, source: 'api', workspace, config };
  }

  async delete(store: Store, id: string): Promise<boolean> {
    if (id in this.file) throw errors.conflict(`Config ${id} is defined in the gateway's config file; remove it there.`);
    this.#api.delete(id);
    return store.deleteConfig(id);
  }
}
