import type { FastifyRequest } from 'fastify';
import type { GatehouseConfig } from '../config/schema.js';
import type { KeyRecord } from '../store/types.js';
import { errors } from '../wire/errors.js';
import type { RouteNode } from './config-schema.js';
import type { ConfigRegistry } from './registry.js';

/**
 * The provider for targets that name none (and for requests without a config):
 * `x-portkey-provider: @slug`, the key's provider, the gateway's `default_provider`, or its only
 * provider. Undefined when none applies; an error only if a target then needs it.
 */
export function defaultProvider(req: FastifyRequest, key: KeyRecord | undefined, cfg: Readonly<GatehouseConfig>, providers: { readonly size: number; keys(): Iterable<string> }): string | undefined {
  const header = req.headers['x-portkey-provider'];
  const fromHeader = typeof header === 'string' && header.trim() ? header.trim().replace(/^@/, '') : undefined;
  return fromHeader ?? key?.provider ?? cfg.default_provider ?? (providers.size === 1 ? [...providers.keys()][0] : undefined);
}

/**
 * Which routing config serves a request: `x-portkey-config` (a config id, or inline JSON when the
 * key allows it), else the key's config, else a single target on the default provider.
 */
export function resolveRoute(req: FastifyRequest, key: KeyRecord | undefined, configs: ConfigRegistry, workspaceDefault?: string): RouteNode {
  const header = req.headers['x-portkey-config'];
  const asked = typeof header === 'string' ? header.trim() : '';
  if (asked.startsWith('{')) {
    if (!key?.allow_inline_config) throw errors.inlineConfigNotAllowed();
    let raw: unknown;
    try {
      raw = JSON.parse(asked);
    } catch (e) {
      throw errors.invalidParam(`x-portkey-config is not valid JSON: ${e instanceof Error ? e.message : String(e)}.`);
    }
    try {
      return configs.validate(raw);
    } catch (e) {
      throw errors.invalidParam(`x-portkey-config: ${(e as Error).message}`);
    }
  }
  if (asked) {
    // Another workspace's config is, to this key, not there at all.
    const named = configs.get(asked, key?.workspace);
    if (!named) throw errors.invalidParam(`x-portkey-config: config "${asked}" is not defined on this gateway (known: ${configs.list(key?.workspace).map((c) => c.id).join(', ') || 'none'}).`);
    return named;
  }
  for (const id of [key?.config, workspaceDefault]) {
    const named = id ? configs.get(id, key?.workspace) : undefined;
    if (named) return named;
  }
  return {};
}
