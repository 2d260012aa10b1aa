/**
 * The one catalog of errors the gateway itself produces. Each entry fixes the HTTP status and
 * Anthropic `error.type`, so every client (Claude Code, the SDKs) maps it to the right class and
 * retry behaviour. Only `render-error.ts` turns these into bytes.
 */

export type AnthropicErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'permission_error'
  | 'not_found_error'
  | 'request_too_large'
  | 'rate_limit_error'
  | 'api_error'
  | 'timeout_error'
  | 'overloaded_error';

export interface GatewayErrorInit {
  /** Stable machine code, e.g. `key_revoked`; shown as `error.details.error_code`. */
  code: string;
  status: number;
  type: AnthropicErrorType;
  message: string;
  /** When set, sent as `x-should-retry` so SDKs don't retry what cannot succeed. */
  retryable?: boolean;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class GatewayError extends Error {
  readonly code: string;
  readonly status: number;
  readonly type: AnthropicErrorType;
  readonly retryable: boolean | undefined;
  readonly headers: Record<string, string>;

  constructor(init: GatewayErrorInit) {
    super(init.message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = 'GatewayError';
    this.code = init.code;
    this.status = init.status;
    this.type = init.type;
    this.retryable = init.retryable;
    this.headers = init.headers ?? {};
  }
}

const make =
  <A extends unknown[]>(code: string, status: number, type: AnthropicErrorType, message: (...a: A) => string, retryable?: boolean) =>
  (...a: A) =>
    new GatewayError({ code, status, type, message: message(...a), retryable });

const AUTH_HINT = 'Send your Gatehouse key as `Authorization: Bearer <key>` or `x-api-key: <key>` (Claude Code: set ANTHROPIC_AUTH_TOKEN).';

export const errors = {
  // --- authentication (401): the message says which of the cases it is, so people know what to fix
  missingKey: make('missing_key', 401, 'authentication_error', () => `No API key was sent. ${AUTH_HINT}`, false),
  unknownKey: make(
    'unknown_key',
    401,
    'authentication_error',
    (prefix: string) => `The key ${prefix}… is not known to this gateway. Check that you copied the whole key, or ask your Gatehouse admin for a new one.`,
    false,
  ),
  expiredKey: make(
    'key_expired',
    401,
    'authentication_error',
    (prefix: string, at: string) => `The key ${prefix}… expired at ${at}. Ask your Gatehouse admin for a new key.`,
    false,
  ),
  revokedKey: make(
    'key_revoked',
    401,
    'authentication_error',
    (prefix: string, at: string) => `The key ${prefix}… was revoked at ${at}. Ask your Gatehouse admin for a new key.`,
    false,
  ),
  rotatedKey: make(
    'key_rotated',
    401,
    'authentication_error',
    (prefix: string, at: string) => `The key ${prefix}… was replaced by a rotated key and stopped working at ${at}. Use the new key.`,
    false,
  ),
  notAdmin: make(
    'admin_key_required',
    401,
    'authentication_error',
    () => 'This route needs the admin key (GATEHOUSE_ADMIN_KEY). Send it as `Authorization: Bearer <admin key>`.',
    false,
  ),
  readOnlyAdmin: make(
    'admin_key_read_only',
    403,
    'permission_error',
    (method: string, path: string) => `This admin key is read-only and cannot ${method} ${path}. Use an admin key with the "admin" role.`,
    false,
  ),
  adminKeyOnModelRoute: make(
    'admin_key_on_model_route',
    403,
    'permission_error',
    () => 'The admin key manages the gateway and cannot call models. Create a key with `gatehouse keys create --name <name>` and use that.',
    false,
  ),

  // --- request shape (400/404/413)
  notFound: make('not_found', 404, 'not_found_error', (method: string, path: string, hint: string) => `No route ${method} ${path}.${hint}`, false),
  malformedJson: make('malformed_json', 400, 'invalid_request_error', (detail: string) => `The request body is not valid JSON: ${detail}.`, false),
  bodyNotObject: make('body_not_object', 400, 'invalid_request_error', () => 'The request body must be a JSON object.', false),
  unsupportedContentType: make(
    'unsupported_content_type',
    400,
    'invalid_request_error',
    (ct: string) => `Content-Type ${ct} is not supported here; send application/json.`,
    false,
  ),
  bodyTooLarge: make(
    'body_too_large',
    413,
    'request_too_large',
    (limitMb: number) => `The request body is larger than this gateway's limit of ${limitMb} MB (server.body_limit_mb).`,
    false,
  ),
  invalidParam: make('invalid_param', 400, 'invalid_request_error', (what: string) => what, false),
  unknownProvider: make(
    'unknown_provider',
    400,
    'invalid_request_error',
    (slug: string, known: string[]) => `Provider @${slug} is not configured on this gateway. Known providers: ${known.map((k) => '@' + k).join(', ') || '(none)'}.`,
    false,
  ),
  noProvider: make(
    'no_provider',
    400,
    'invalid_request_error',
    (known: string[]) =>
      `This request names no provider and the key has no default. Send \`x-portkey-provider: @<slug>\` (one of ${known.map((k) => '@' + k).join(', ') || '(none)'}) or ask your admin to set one on the key.`,
    false,
  ),
  inlineConfigNotAllowed: make(
    'inline_config_not_allowed',
    403,
    'permission_error',
    () => 'This key may not send an inline routing config in x-portkey-config. Send a config id, or ask your admin for a key with --allow-inline-config.',
    false,
  ),
  modelNotAllowed: make(
    'model_not_allowed',
    403,
    'permission_error',
    (id: string, who: string, allowed: readonly string[]) => `Model ${id} is not allowed for ${who}. It may use: ${allowed.join(', ')}. Ask your Gatehouse admin if you need another.`,
    false,
  ),
  modelNotFound: make('model_not_found', 404, 'not_found_error', (id: string) => `Model ${id} is not available to this key.`, false),
  modelNotOnProvider: make(
    'model_not_on_provider',
    404,
    'not_found_error',
    (id: string, slug: string, known: string[]) => `Model ${id} is not available on provider @${slug}. It serves: ${known.join(', ') || '(none)'}.`,
    false,
  ),

  // --- governance (429 for spend and rate, 400 for content)
  budgetExceeded: (what: string, retryAfterS: number | null) =>
    new GatewayError({
      code: 'budget_exceeded',
      status: 429,
      type: 'rate_limit_error',
      message: what,
      // Not retryable: waiting seconds will not bring a budget back, and Claude Code shows the message instead of retrying.
      retryable: false,
      headers: retryAfterS === null ? {} : { 'retry-after': String(retryAfterS) },
    }),
  rateLimited: (message: string, retryAfterS: number, headers: Record<string, string>) =>
    new GatewayError({ code: 'rate_limited', status: 429, type: 'rate_limit_error', message, retryable: true, headers: { ...headers, 'retry-after': String(retryAfterS) } }),
  guardrailDenied: make('guardrail_denied', 400, 'invalid_request_error', (message: string) => message, false),
  userMetadataRequired: make(
    'user_metadata_required',
    400,
    'invalid_request_error',
    (workspace: string) =>
      `Workspace "${workspace}" sets budgets or limits per developer, so each request must say who sends it: add a "user" field to the x-portkey-metadata header, e.g. {"user":"alice@example.com"}.`,
    false,
  ),
  providerNotAllowed: make(
    'provider_not_allowed',
    403,
    'permission_error',
    (slug: string, workspace: string, allowed: string[]) => `Workspace "${workspace}" may not use provider @${slug}. It may use: ${allowed.map((a) => '@' + a).join(', ')}.`,
    false,
  ),
  unpricedModel: make(
    'model_unpriced',
    400,
    'invalid_request_error',
    (model: string) => `Model ${model} has no price on this gateway, so a dollar budget cannot be enforced for it. Ask your Gatehouse admin to add it under "pricing" in the config.`,
    false,
  ),

  // --- admin API
  adminNotFound: make('not_found', 404, 'not_found_error', (what: string) => `${what} was not found.`, false),
  conflict: make('conflict', 409, 'invalid_request_error', (what: string) => what, false),

  // --- provider side (5xx): name the provider, never a bare "fetch failed"
  providerNotConfigured: make(
    'provider_credentials_missing',
    500,
    'api_error',
    (slug: string, detail: string) => `Provider @${slug} has no credentials: ${detail} Restart the gateway after setting it.`,
    false,
  ),
  providerCredentialsRejected: make(
    'provider_credentials_rejected',
    502,
    'api_error',
    (slug: string, detail: string) => `Provider @${slug} refused the gateway's own credentials: ${detail} The gateway admin must fix them.`,
    false,
  ),
  upstreamUnreachable: (slug: string, origin: string, reason: string, cause?: unknown) =>
    new GatewayError({
      code: 'upstream_unreachable',
      status: 502,
      type: 'api_error',
      message: `Provider @${slug} (${origin}) could not be reached: ${reason}.`,
      retryable: true,
      cause,
    }),
  upstreamTimeout: (slug: string, what: string, cause?: unknown) =>
    new GatewayError({
      code: 'upstream_timeout',
      status: 504,
      type: 'timeout_error',
      message: `Provider @${slug} timed out: ${what}.`,
      retryable: true,
      cause,
    }),
  upstreamStreamFailed: (slug: string, reason: string, cause?: unknown) =>
    new GatewayError({
      code: 'upstream_stream_failed',
      status: 502,
      type: 'api_error',
      message: `The stream from provider @${slug} broke off: ${reason}.`,
      retryable: true,
      cause,
    }),
  // --- shared state of a multi-instance deployment (503: retryable once Redis is back)
  redisUnavailable: (where: string, what: 'budgets' | 'rate limits', cause?: unknown) =>
    new GatewayError({
      code: 'redis_unavailable',
      status: 503,
      type: 'overloaded_error',
      message: `The gateway cannot reach its Redis at ${where} to check ${what}; requests are refused until it is back. If this persists, ask your Gatehouse admin to check Redis.`,
      retryable: true,
      cause,
    }),
  // --- the gateway's own database (503: retryable once it is back); names host:port, never the URL
  storeUnavailable: (where: string, doing: string, cause?: unknown) =>
    new GatewayError({
      code: 'store_unavailable',
      status: 503,
      type: 'overloaded_error',
      message: `The gateway cannot reach its database (PostgreSQL at ${where}) to ${doing}; try again shortly. If this persists, ask your Gatehouse admin to check PostgreSQL.`,
      retryable: true,
      cause,
    }),
  shuttingDown: make('shutting_down', 503, 'overloaded_error', () => 'This gateway instance is shutting down; retry the request.', true),
  internal: (cause: unknown) =>
    new GatewayError({ code: 'internal', status: 500, type: 'api_error', message: 'The gateway hit an internal error; it has been logged.', cause }),
} as const;
