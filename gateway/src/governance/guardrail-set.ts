import type { GatehouseConfig } from '../config/schema.js';
import { compileGuardrails, type CompiledGuardrails } from './guardrails/engine.js';

/**
 * The guardrails a request runs: its workspace's, then its routing config's, in that order.
 * Each distinct list is compiled once (patterns built, detectors chosen) and reused.
 */
export class GuardrailSet {
  readonly #compiled = new Map<string, CompiledGuardrails>();

  constructor(private readonly defs: Readonly<GatehouseConfig['guardrails']>) {}

  has(id: string): boolean {
    return id in this.defs;
  }

  ids(): string[] {
    return Object.keys(this.defs);
  }

  /** Undefined when no guardrail applies. Unknown ids were rejected when the config was checked. */
  forRequest(workspace: readonly string[], config: readonly string[] | undefined): CompiledGuardrails | undefined {
    const ids = config?.length ? [...workspace, ...config] : workspace;
    if (ids.length === 0) return undefined;
    const cacheKey = ids.join('\0');
    let c = this.#compiled.get(cacheKey);
    if (!c) {
      c = compileGuardrails(ids.filter((id) => id in this.defs).map((id) => ({ id, def: this.defs[id]! })));
      this.#compiled.set(cacheKey, c);
    }
    return c;
  }
}
