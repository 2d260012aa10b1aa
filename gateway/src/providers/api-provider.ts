import { z } from 'zod';
import { AnthropicProvider, BedrockProviderFields, VertexProvider } from '../config/schema.js';
import { CATALOG_IDS } from '../governance/model-catalog.js';
import { anthropicProvider } from './anthropic.js';
import { bedrockProvider } from './bedrock.js';
import type { Provider } from './types.js';
import { vertexProvider } from './vertex.js';

/**
 * A provider created through the admin API: the config file's settings for its kind, with the
 * credentials as literal values (the file names where they live instead). The credentials are
 * stored encrypted and never shown again; only their names are.
 */

const Literal = z.string().trim().min(1, { message: 'the value itself is required' });

function isServiceAccount(text: string): boolean {
  try {
    const sa = JSON.parse(text) as { client_email?: unknown; private_key?: unknown } | null;
    return typeof sa?.client_email === 'string' && typeof sa.private_key === 'string';
  } catch {
    return false;
  }
}

const AnthropicCredentials = z.object({ api_key: Literal }).strict();

const BedrockCredentials = z
  .object({ access_key_id: Literal.optional(), secret_access_key: Literal.optional(), session_token: Literal.optional(), api_key: Literal.optional() })
  .strict()
  .refine(
    (c) => (c.api_key !== undefined ? c.access_key_id === undefined && c.secret_access_key === undefined && c.session_token === undefined : c.access_key_id !== undefined && c.secret_access_key !== undefined),
    { message: 'give either { "api_key" } or { "access_key_id", "secret_access_key", "session_token"? }' },
  );

const VertexCredentials = z
  .object({ service_account: Literal.refine(isServiceAccount, { message: 'the service-account JSON (its text), with client_email and private_key' }) })
  .strict();

export const ApiProviderBody = z.discriminatedUnion(
  'kind',
  [
    AnthropicProvider.omit({ api_key: true }).extend({ credentials: AnthropicCredentials }),
    BedrockProviderFields.omit({ access_key_id: true, secret_access_key: true, session_token: true, api_key: true }).extend({ credentials: BedrockCredentials }),
    VertexProvider.omit({ service_account: true }).extend({ credentials: VertexCredentials }),
  ],
  { error: (issue) => (issue.code === 'invalid_union' ? 'kind must be one of: "anthropic", "bedrock", "vertex"' : undefined) },
);
export type ApiProviderConfig = z.infer<typeof ApiProviderBody>;

/** The provider for requests, with the credentials passed as resolved values. */
export function apiProvider(id: string, cfg: ApiProviderConfig): Provider {
  switch (cfg.kind) {
    case 'anthropic':
      return { ...anthropicProvider(id, cfg, { ok: true, value: cfg.credentials.api_key }, CATALOG_IDS), credentials: 'api_key stored through the admin API' };
    case 'bedrock': {
      const c = cfg.credentials;
      return bedrockProvider(
        id,
        cfg,
        c.api_key !== undefined
          ? { kind: 'api_key', apiKey: c.api_key }
          : { kind: 'static', credentials: { accessKeyId: c.access_key_id ?? '', secretAccessKey: c.secret_access_key ?? '', ...(c.session_token === undefined ? {} : { sessionToken: c.session_token }) } },
      );
    }
    case 'vertex':
      return vertexProvider(id, cfg, { kind: 'service_account', json: cfg.credentials.service_account });
  }
}
