import { compileGuardrails, type CompiledGuardrails } from './guardrails/engine.js';
import type { PolicyRegistry } from './policy-registry.js';

/**
 * The guardrails a request runs: its workspace's, then its routing config's, in that order.
 * Each distinct list is compiled once (patterns built, detectors chosen) and reused until a
 * guardrail is changed through the admin API.
 */
export class GuardrailSet {
  readonly #compiled = new Map<string, CompiledGuardrails>();

  constructor(private readonly policies: PolicyRegistry) {
    policies.onGuardrailsChanged(() => this.#compiled.clear());
  }

  has(id: string): boolean {
    return this.policies.hasGuardrail(id);
  }

  ids(): string[] {
    return this.policies.listGuardrails().map((g) => g.id);
  }

  /** Undefined when no guardrail applies. Unknown ids were rejected when the config was checked. */
  forRequest(workspace: readonly string[], config: readonly string[] | undefined): CompiledGuardrails | undefined {
    const ids = config?.length ? [...workspace, ...config] : workspace;
    if (ids.length === 0) return undefined;
    const cacheKey = ids.join('\0');
    let c = this.#compiled.get(cacheKey);
    if (!c) {
      c = compileGuardrails(ids.flatMap((id) => {
        const def = this.policies.guardrail(id);
        return def ? [{ id, def }] : [];
      }));
      this.#compiled.set(cacheKey, c);
    }
    return c;
  }
}
