import type { z } from 'zod';
import { WorkspaceSchema, type GatehouseConfig, type WorkspaceConfig } from '../config/schema.js';
import type { PolicyKind, Store } from '../store/types.js';
import { errors } from '../wire/errors.js';
import { GuardrailSchema, type GuardrailDef } from './guardrails/schema.js';

/** One workspace or guardrail as the admin API lists it. */
export interface PolicyEntry<T> {
  id: string;
  source: 'file' | 'api';
  def: T;
  /** API entries: when it was last written. */
  updated_at?: string;
}

/** What a workspace's definition may name, checked like the config file's own references. */
export interface WorkspaceRefs {
  providers: { has(id: string): boolean };
  /** Routing configs, as the workspace's keys could use them. */
  configs: { has(id: string, workspace?: string): boolean };
}

/** The file's entries (fixed while the gateway runs) and the admin API's (stored, live). */
class Layer<T> {
  readonly #api = new Map<string, { def: T; updated_at: string }>();

  constructor(
    private readonly kind: PolicyKind,
    private readonly file: Readonly<Record<string, T>>,
    private readonly schema: z.ZodType<T>,
  ) {}

  isFile(id: string): boolean {
    return Object.hasOwn(this.file, id);
  }

  isApi(id: string): boolean {
    return this.#api.has(id);
  }

  get(id: string): T | undefined {
    return this.isFile(id) ? this.file[id] : this.#api.get(id)?.def;
  }

  list(): Array<PolicyEntry<T>> {
    return [
      ...Object.entries(this.file).map(([id, def]) => ({ id, source: 'file' as const, def })),
      ...[...this.#api].filter(([id]) => !this.isFile(id)).map(([id, e]) => ({ id, source: 'api' as const, def: e.def, updated_at: e.updated_at })),
    ];
  }

  /** Also a reload (another instance changed the store): entries no longer stored are dropped. */
  async load(store: Store): Promise<void> {
    const rows = await store.listPolicies(this.kind);
    const stored = new Set(rows.map((r) => r.id));
    for (const id of this.#api.keys()) if (!stored.has(id)) this.#api.delete(id);
    for (const row of rows) {
      // The file wins over a stored entry of the same id; one that no longer parses stays out (like configs).
      if (this.isFile(row.id)) continue;
      const parsed = this.schema.safeParse(JSON.parse(row.body));
      if (parsed.success) this.#api.set(row.id, { def: parsed.data, updated_at: row.updated_at });
    }
  }

  async put(store: Store, id: string, def: T): Promise<PolicyEntry<T>> {
    const updated_at = new Date().toISOString();
    await store.putPolicy(this.kind, { id, body: JSON.stringify(def), updated_at });
    this.#api.set(id, { def, updated_at });
    return { id, source: 'api', def, updated_at };
  }

  async delete(store: Store, id: string): Promise<boolean> {
    if (!this.#api.delete(id)) return false;
    await store.deletePolicy(this.kind, id);
    return true;
  }
}

/**
 * Workspaces and guardrails: the config file's and those created through the admin API. Every
 * reader (admission, the messages handler, budgets, metrics, events) asks here, so a change is
 * seen by the next request. `default` is always a workspace, with no policy unless one is given.
 */
export class PolicyRegistry {
  readonly #workspaces: Layer<WorkspaceConfig>;
  readonly #guardrails: Layer<GuardrailDef>;
  readonly #onGuardrails: Array<() => void> = [];

  constructor(cfg: Pick<GatehouseConfig, 'workspaces' | 'guardrails'>) {
    this.#workspaces = new Layer('workspace', cfg.workspaces, WorkspaceSchema);
    this.#guardrails = new Layer('guardrail', cfg.guardrails, GuardrailSchema);
  }

  async load(store: Store): Promise<void> {
    await this.#guardrails.load(store);
    await this.#workspaces.load(store);
    this.#guardrailsChanged();
  }

  /** Called whenever a guardrail is added, changed or removed (compiled lists go stale). */
  onGuardrailsChanged(fn: () => void): void {
    this.#onGuardrails.push(fn);
  }

  // Workspaces

  workspace(id: string): WorkspaceConfig | undefined {
    return this.#workspaces.get(id);
  }

  hasWorkspace(id: string): boolean {
    return id === 'default' || this.#workspaces.get(id) !== undefined;
  }

  /** `default` first, then the file's, then the admin API's. */
  workspaceIds(): string[] {
    return [...new Set(['default', ...this.#workspaces.list().map((w) => w.id)])];
  }

  workspaceSource(id: string): 'file' | 'api' {
    return this.#workspaces.isApi(id) && !this.#workspaces.isFile(id) ? 'api' : 'file';
  }

  listWorkspaces(): Array<PolicyEntry<WorkspaceConfig>> {
    return this.#workspaces.list();
  }

  isFileWorkspace(id: string): boolean {
    return this.#workspaces.isFile(id);
  }

  isApiWorkspace(id: string): boolean {
    return this.#workspaces.isApi(id) && !this.#workspaces.isFile(id);
  }

  /** Checks what the definition names, as the config file's check does, then stores it. */
  async putWorkspace(store: Store, id: string, def: WorkspaceConfig, refs: WorkspaceRefs): Promise<PolicyEntry<WorkspaceConfig>> {
    if (this.#workspaces.isFile(id)) throw errors.conflict(`Workspace ${id} is defined in the config file; change it there.`);
    const problems = [
      ...(def.providers ?? []).flatMap((p, i) => (refs.providers.has(p) ? [] : [`providers.${i}: "${p}" is not a provider of this gateway`])),
      ...def.guardrails.flatMap((g, i) => (this.hasGuardrail(g) ? [] : [`guardrails.${i}: "${g}" is not a guardrail of this gateway`])),
      ...(def.default_config !== undefined && !refs.configs.has(def.default_config, id) ? [`default_config: "${def.default_config}" is not a routing config of this gateway`] : []),
    ];
    if (problems.length) throw errors.invalidParam(problems.join('; '));
    return this.#workspaces.put(store, id, def);
  }

  async deleteWorkspace(store: Store, id: string): Promise<boolean> {
    if (this.#workspaces.isFile(id)) throw errors.conflict(`Workspace ${id} is defined in the config file; remove it there.`);
    return this.#workspaces.delete(store, id);
  }

  // Guardrails

  guardrail(id: string): GuardrailDef | undefined {
    return this.#guardrails.get(id);
  }

  hasGuardrail(id: string): boolean {
    return this.#guardrails.get(id) !== undefined;
  }

  listGuardrails(): Array<PolicyEntry<GuardrailDef>> {
    return this.#guardrails.list();
  }

  isFileGuardrail(id: string): boolean {
    return this.#guardrails.isFile(id);
  }

  isApiGuardrail(id: string): boolean {
    return this.#guardrails.isApi(id) && !this.#guardrails.isFile(id);
  }

  /** The workspaces whose guardrails name this one. */
  workspacesUsingGuardrail(id: string): string[] {
    return this.#workspaces.list().filter((w) => w.def.guardrails.includes(id)).map((w) => w.id);
  }

  async putGuardrail(store: Store, id: string, def: GuardrailDef): Promise<PolicyEntry<GuardrailDef>> {
    if (this.#guardrails.isFile(id)) throw errors.conflict(`Guardrail ${id} is defined in the config file; change it there.`);
    const entry = await this.#guardrails.put(store, id, def);
    this.#guardrailsChanged();
    return entry;
  }

  async deleteGuardrail(store: Store, id: string): Promise<boolean> {
    if (this.#guardrails.isFile(id)) throw errors.conflict(`Guardrail ${id} is defined in the config file; remove it there.`);
    const gone = await this.#guardrails.delete(store, id);
    if (gone) this.#guardrailsChanged();
    return gone;
  }

  #guardrailsChanged(): void {
    for (const fn of this.#onGuardrails) fn();
  }
}
