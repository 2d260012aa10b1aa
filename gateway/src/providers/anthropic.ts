import type { ProviderConfig } from '../config/schema.js';
import type { Resolved } from '../config/secrets.js';
import { listedModels } from './model-map.js';
import type { InboundCall, Provider, UpstreamRequest } from './types.js';

const PATHS = { messages: '/v1/messages', count_tokens: '/v1/messages/count_tokens' } as const;

/**
 * Anthropic's own API: a pure pass-through. The body bytes, `anthropic-*` and every other
 * end-to-end header go as received; only the credential is ours.
 */
export function anthropicProvider(
  slug: string,
  cfg: Extract<ProviderConfig, { kind: 'anthropic' }>,
  apiKey: Resolved | undefined,
  defaultModels: readonly string[],
): Provider {
  const base = new URL(cfg.base_url);
  // A base URL may carry a path prefix (a corporate proxy, say); the API paths go under it.
  const prefix = base.pathname.replace(/\/+$/, '').replace(/\/v1$/, '');
  const unavailable = apiKey === undefined ? 'no api_key is configured for it (add "api_key": "env:ANTHROPIC_API_KEY").' : apiKey.ok ? undefined : apiKey.missing;
  const key = apiKey?.ok ? apiKey.value : '';
  return {
    slug,
    kind: 'anthropic',
    unavailable,
    models: listedModels(cfg.models, defaultModels),
    origin: base.origin,
    credentials: cfg.api_key ? `api_key from ${cfg.api_key}` : 'none',
    async prepare(call: InboundCall): Promise<UpstreamRequest> {
      return {
        origin: base.origin,
        path: prefix + PATHS[call.op] + call.query,
        method: 'POST',
        headers: { ...call.headers, 'x-api-key': key },
        body: call.body.raw,
      };
    },
  };
}
