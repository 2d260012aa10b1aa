import { z } from 'zod';
import { providerRefs, RouteNodeSchema } from '../routing/config-schema.js';

/**
 * The gateway's config file, as one zod schema. `GatehouseConfig` is inferred from it and is the
 * only config type in the code base. Objects are strict so a misspelt key is reported, not ignored.
 */

/** Secrets are never literal in the file: they name where the value lives. */
export const SecretRef = z
  .string()
  .regex(/^(env:[A-Za-z_][A-Za-z0-9_]*|file:.+)$/, {
    message: 'write secrets as a reference, "env:VARIABLE_NAME" or "file:/path/to/secret", never as the value itself',
  });
export type SecretRef = z.infer<typeof SecretRef>;

const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'use lower-case letters, digits, "-" and "_" (max 63)' });

const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

/**
 * The models a provider offers (what `/v1/models` lists): a list of Anthropic ids, or a map from
 * Anthropic id to the provider's own id (a Bedrock inference profile or ARN, a Vertex id).
 */
const Models = z.union([z.array(z.string().min(1)), z.record(z.string().min(1), z.string().min(1))]).optional();

const AnthropicProvider = z
  .object({
    kind: z.literal('anthropic'),
    api_key: SecretRef.optional(),
    base_url: HttpUrl.default('https://api.anthropic.com'),
    models: Models,
  })
  .strict();

const Ms = z.number().int().positive();

const BedrockProvider = z
  .object({
    kind: z.literal('bedrock'),
    region: z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, { message: 'an AWS region such as "us-east-1"' }),
    /** For tests and VPC endpoints; defaults to https://bedrock-runtime.<region>.amazonaws.com. */
    base_url: HttpUrl.optional(),
    access_key_id: SecretRef.optional(),
    secret_access_key: SecretRef.optional(),
    session_token: SecretRef.optional(),
    /** A Bedrock API key, sent as a bearer token instead of SigV4. */
    api_key: SecretRef.optional(),
    /** Cross-region inference profile put before model ids; defaults from the region (us-* → us). */
    inference_profile: z.enum(['us', 'eu', 'apac', 'jp', 'au', 'global', 'none']).optional(),
    /** Bedrock sends no pings; the gateway sends one when the stream has been silent this long. */
    ping_interval_ms: Ms.default(10_000),
    models: Models,
  })
  .strict()
  .refine((p) => (p.access_key_id === undefined) === (p.secret_access_key === undefined), {
    message: 'give access_key_id and secret_access_key together (or neither, for the default AWS credential chain)',
    path: ['secret_access_key'],
  });

const VertexProvider = z
  .object({
    kind: z.literal('vertex'),
    project: z.string().min(1),
    region: z.string().min(1),
    /** Replaces the whole base including /v1; defaults by region (global, us, eu, or regional). */
    base_url: HttpUrl.optional(),
    /** OAuth token endpoint for the service account; defaults to Google's. */
    token_url: HttpUrl.optional(),
    /** The service-account JSON (its content); without it, application default credentials. */
    service_account: SecretRef.optional(),
    models: Models,
  })
  .strict();

export const ProviderSchema = z.discriminatedUnion('kind', [AnthropicProvider, BedrockProvider, VertexProvider], {
  error: (issue) => (issue.code === 'invalid_union' ? 'kind must be one of: "anthropic", "bedrock", "vertex"' : undefined),
});
export type ProviderConfig = z.infer<typeof ProviderSchema>;

const Price = z.number().nonnegative();
export const ModelPriceSchema = z
  .object({
    input: Price,
    output: Price,
    cache_write_5m: Price.optional(),
    cache_write_1h: Price.optional(),
    cache_read: Price.optional(),
  })
  .strict();

const WorkspaceSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
  })
  .strict();

export const ServerSchema = z
  .object({
    host: z.string().min(1).default('127.0.0.1'),
    port: z.number().int().min(0).max(65535).default(8787),
    body_limit_mb: z.number().positive().max(1024).default(32),
    cors: z
      .object({
        /** Exact origins allowed to call from a browser, e.g. the Claude Office add-ins' https://pivot.claude.ai. */
        origins: z.array(z.union([z.literal('*'), z.url()])).default([]),
      })
      .strict()
      .default({ origins: [] }),
    timeouts: z
      .object({
        connect_ms: Ms.default(10_000),
        /** Until the provider's response headers arrive; long non-streaming calls need minutes. */
        first_byte_ms: Ms.default(600_000),
        /** Longest silence inside a response body; Anthropic pings well within this. */
        idle_ms: Ms.default(300_000),
      })
      .strict()
      .default({ connect_ms: 10_000, first_byte_ms: 600_000, idle_ms: 300_000 }),
    /** How long a shutdown waits for in-flight streams before cutting them. */
    shutdown_grace_ms: Ms.default(30_000),
  })
  .strict();

export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    server: ServerSchema.default(ServerSchema.parse({})),
    /** Defaults to env:GATEHOUSE_ADMIN_KEY; see README. */
    admin_key: SecretRef.optional(),
    providers: z.record(Slug, ProviderSchema).default({}),
    default_provider: Slug.optional(),
    workspaces: z.record(Slug, WorkspaceSchema).default({}),
    /** Named routing configs in the Portkey dialect (keys and requests refer to them by id). */
    configs: z.record(z.string().min(1), RouteNodeSchema).default({}),
    routing: z
      .object({
        /** A provider that fails this many times in a row is skipped for `cooldown_ms`. */
        circuit_breaker: z
          .object({ failure_threshold: z.number().int().min(1).default(5), cooldown_ms: Ms.default(30_000) })
          .strict()
          .default({ failure_threshold: 5, cooldown_ms: 30_000 }),
      })
      .strict()
      .default({ circuit_breaker: { failure_threshold: 5, cooldown_ms: 30_000 } }),
    /** USD per million tokens, overriding the built-in table. */
    pricing: z.record(z.string().min(1), ModelPriceSchema).default({}),
  })
  .strict()
  .superRefine((cfg, ctx) => {
    for (const [id, node] of Object.entries(cfg.configs)) {
      for (const ref of providerRefs(node)) {
        if (!(ref.slug in cfg.providers)) {
          ctx.addIssue({ code: 'custom', path: ['configs', id, ...ref.path.replace(/^config\.?/, '').split(/\.|\[|\]\.?/).filter(Boolean).map((s) => (/^\d+$/.test(s) ? Number(s) : s)), 'provider'], message: `@${ref.slug} is not under "providers"` });
        }
      }
    }
    if (cfg.default_provider !== undefined && !(cfg.default_provider in cfg.providers)) {
      ctx.addIssue({
        code: 'custom',
        path: ['default_provider'],
        message: `names "${cfg.default_provider}", which is not under "providers" (have: ${Object.keys(cfg.providers).join(', ') || 'none'})`,
      });
    }
  });

export type GatehouseConfig = z.infer<typeof ConfigSchema>;
