import { z } from 'zod';
import { GuardrailSchema } from '../governance/guardrails/schema.js';
import { providerRefs, RouteNodeSchema } from '../routing/config-schema.js';
import { RedisSchema, StoreSchema } from './scale-schema.js';
import { SecretRef } from './secret-ref.js';

/**
 * The gateway's config file, as one zod schema. `GatehouseConfig` is inferred from it and is the
 * only config type in the code base. Objects are strict so a misspelt key is reported, not ignored.
 */

export { SecretRef } from './secret-ref.js';

export const Slug = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, { message: 'use lower-case letters, digits, "-" and "_" (max 63)' });

const HttpUrl = z.url({ protocol: /^https?$/, message: 'must be an http(s) URL' });

/**
 * The models a provider offers (what `/v1/models` lists): a list of Anthropic ids, or a map from
 * Anthropic id to the provider's own id (a Bedrock inference profile or ARN, a Vertex id).
 */
const Models = z.union([z.array(z.string().min(1)), z.record(z.string().min(1), z.string().min(1))]).optional();

export const AnthropicProvider = z
  .object({
    kind: z.literal('anthropic'),
    api_key: SecretRef.optional(),
    base_url: HttpUrl.default('https://api.anthropic.com'),
    models: Models,
  })
  .strict();

const Ms = z.number().int().positive();

/** Without the credential pairing check, so the admin API can reuse the fields. */
export const BedrockProviderFields = z
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
  .strict();

const BedrockProvider = BedrockProviderFields.refine((p) => (p.access_key_id === undefined) === (p.secret_access_key === undefined), {
  message: 'give access_key_id and secret_access_key together (or neither, for the default AWS credential chain)',
  path: ['secret_access_key'],
});

export const VertexProvider = z
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
/**
 * USD per million tokens. Missing cache rates default from `input` (5m write 1.25×, 1h write 2×,
 * read 0.1×). A request whose total input (input + cache writes + cache reads) exceeds a tier's
 * `above_input_tokens` is priced entirely at that tier, as Anthropic bills long-context prompts.
 */
export const ModelPriceSchema = z
  .object({
    input: Price,
    output: Price,
    cache_write_5m: Price.optional(),
    cache_write_1h: Price.optional(),
    cache_read: Price.optional(),
    tiers: z
      .array(
        z
          .object({
            above_input_tokens: z.number().int().positive(),
            input: Price,
            output: Price,
            cache_write_5m: Price.optional(),
            cache_write_1h: Price.optional(),
            cache_read: Price.optional(),
          })
          .strict(),
      )
      .optional(),
  })
  .strict();

/** An IANA time zone such as "Europe/Berlin"; budget periods start at midnight there. */
const TimeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { message: 'an IANA time zone such as "UTC" or "Europe/Berlin"' },
);

/** A guardrail's id, as the config file's "guardrails" map and the admin API take it. */
export const GuardrailId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/, { message: 'letters, digits, ".", "-" and "_"' });

export const BudgetPeriod = z.enum(['day', 'week', 'month', 'lifetime']);
export type BudgetPeriod = z.infer<typeof BudgetPeriod>;

/** Percentages of a budget at which an alert goes out, e.g. [50, 80, 100]. */
const Thresholds = z.array(z.number().positive().max(1000)).max(10);

export const BudgetSchema = z
  .object({
    usd: z.number().positive().optional(),
    tokens: z.number().int().positive().optional(),
    period: BudgetPeriod.default('month'),
    alert_thresholds: Thresholds.optional(),
  })
  .strict()
  .refine((b) => b.usd !== undefined || b.tokens !== undefined, { message: 'give "usd", "tokens" or both' });
export type BudgetConfig = z.infer<typeof BudgetSchema>;

const PositiveInt = z.number().int().positive();
export const LimitsSchema = z
  .object({
    /** Requests per minute. */
    rpm: PositiveInt.optional(),
    /** Tokens per minute (input and output together). */
    tpm: PositiveInt.optional(),
    /** Requests in flight at once. */
    max_concurrent: PositiveInt.optional(),
  })
  .strict();
export type LimitsConfig = z.infer<typeof LimitsSchema>;

export const WorkspaceSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    /** Provider slugs this workspace's requests may reach; omitted for all. */
    providers: z.array(Slug).min(1).optional(),
    /** Model patterns (`claude-sonnet-*`) this workspace may ask for; omitted for any. */
    allowed_models: z.array(z.string().min(1)).min(1).optional(),
    /** Routing config for keys of this workspace that name none. */
    default_config: z.string().min(1).optional(),
    /** The whole workspace's budget. */
    budget: BudgetSchema.optional(),
    limits: LimitsSchema.optional(),
    /** Per developer (the `user` metadata field) inside this workspace; requests must then carry `user`. */
    user_budget: BudgetSchema.optional(),
    user_limits: LimitsSchema.optional(),
    /** Guardrail ids (under "guardrails"), run in order on every request of the workspace. */
    guardrails: z.array(z.string().min(1)).default([]),
    /** Overrides `budgets.timezone` for this workspace's periods. */
    timezone: TimeZone.optional(),
    /**
     * What a developer's client is set up with when it connects (the VS Code extension,
     * `gatehouse connect`): shown to the key's owner by GET /api/me.
     */
    onboarding: z
      .object({
        /** Fields each developer fills in, sent as x-portkey-metadata (e.g. {"user": "", "team": "eng"}); a key's own metadata wins. */
        metadata_template: z.record(z.string().min(1).max(64), z.string().max(512)).default({}),
        /** Claude Code's model settings: ANTHROPIC_MODEL, ANTHROPIC_DEFAULT_{OPUS,SONNET,HAIKU}_MODEL. */
        models: z
          .object({ default: z.string().min(1).optional(), opus: z.string().min(1).optional(), sonnet: z.string().min(1).optional(), haiku: z.string().min(1).optional() })
          .strict()
          .default({}),
        /** Extra headers the client sends on every request (e.g. {"x-portkey-config": "eng-default"}); never credentials. */
        headers: z.record(z.string().regex(/^[a-z0-9-]+$/, { message: 'a lower-case header name' }), z.string()).default({}),
      })
      .strict()
      .optional(),
    /** What request logs keep of bodies; overrides `logs.bodies`. */
    log_bodies: z.enum(['none', 'metadata', 'full']).optional(),
  })
  .strict();
export type WorkspaceConfig = z.infer<typeof WorkspaceSchema>;

const BudgetsSchema = z
  .object({
    /** Day, week (from Monday) and month budgets start at midnight in this zone. */
    timezone: TimeZone.default('UTC'),
    alert_thresholds: Thresholds.default([50, 80, 100]),
    /** Alerts are POSTed here as JSON, retried with backoff until a 2xx. */
    webhook: z
      .object({
        url: HttpUrl,
        /** Signs each body: `x-gatehouse-signature: sha256=<hex HMAC>`. */
        secret: SecretRef.optional(),
        max_attempts: z.number().int().min(1).max(20).default(6),
        /** The first retry's delay; each next one doubles (capped at 5 minutes). */
        retry_base_ms: Ms.default(1_000),
      })
      .strict()
      .optional(),
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
    /** `GET /metrics` without the admin key, for scrapers on a trusted network. */
    metrics_public: z.boolean().default(false),
  })
  .strict();

export { RedisSchema, StoreSchema, type RedisConfig, type StoreConfig } from './scale-schema.js';

export const ConfigSchema = z
  .object({
    $schema: z.string().optional(),
    server: ServerSchema.default(ServerSchema.parse({})),
    /** Defaults to env:GATEHOUSE_ADMIN_KEY; see README. */
    admin_key: SecretRef.optional(),
    store: StoreSchema.optional(),
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
    budgets: BudgetsSchema.default({ timezone: 'UTC', alert_thresholds: [50, 80, 100] }),
    logs: z
      .object({
        /** none: no body data; metadata: the body's shape (sizes, counts, tool names); full: the bodies, stored by content. */
        bodies: z.enum(['none', 'metadata', 'full']).default('none'),
        /** Rows and bodies older than this are deleted (checked hourly). */
        retention_days: z.number().positive().default(30),
      })
      .strict()
      .default({ bodies: 'none', retention_days: 30 }),
    /** Named guardrails; workspaces and routing configs attach them by id. */
    guardrails: z.record(GuardrailId, GuardrailSchema).default({}),
    /** Shared rate-limit and budget counters for multi-instance deployments. */
    redis: RedisSchema.optional(),
    /** USD per million tokens, overriding the built-in table. */
    pricing: z.record(z.string().min(1), ModelPriceSchema).default({}),
    /** Exports one OpenTelemetry span per request over OTLP/HTTP (JSON) when `otlp` is set. */
    observability: z
      .object({
        otlp: z
          .object({
            /** The full traces URL, e.g. http://collector:4318/v1/traces. */
            endpoint: HttpUrl,
            /** Sent with every export (a collector's or vendor's token), as secret references. */
            headers: z.record(z.string(), SecretRef).optional(),
            service_name: z.string().default('gatehouse'),
          })
          .strict()
          .optional(),
      })
      .strict()
      .default({}),
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
    for (const [slug, ws] of Object.entries(cfg.workspaces)) {
      for (const [i, p] of (ws.providers ?? []).entries()) {
        if (!(p in cfg.providers)) ctx.addIssue({ code: 'custom', path: ['workspaces', slug, 'providers', i], message: `"${p}" is not under "providers"` });
      }
      for (const [i, g] of ws.guardrails.entries()) {
        if (!(g in cfg.guardrails)) ctx.addIssue({ code: 'custom', path: ['workspaces', slug, 'guardrails', i], message: `"${g}" is not under "guardrails"` });
      }
      if (ws.default_config !== undefined && !(ws.default_config in cfg.configs)) {
        ctx.addIssue({ code: 'custom', path: ['workspaces', slug, 'default_config'], message: `"${ws.default_config}" is not under "configs"` });
      }
    }
    for (const [id, node] of Object.entries(cfg.configs)) {
      for (const [i, g] of (node.input_guardrails ?? []).entries()) {
        if (!(g in cfg.guardrails)) ctx.addIssue({ code: 'custom', path: ['configs', id, 'input_guardrails', i], message: `"${g}" is not under "guardrails"` });
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
