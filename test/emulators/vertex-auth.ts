// The Google side of the Vertex emulator (protocols.md C): service-account keys, the OAuth2
// JWT-bearer token exchange and Google's error envelopes, kept apart from the prediction routes
// in vertex.ts so each stays readable.
import { createPublicKey, generateKeyPairSync, randomBytes, verify, type KeyObject } from 'node:crypto';
import { isRecord } from './anthropic-sse.js';

export interface ServiceAccount {
  type: 'service_account';
  project_id: string;
  private_key_id: string;
  private_key: string;
  client_email: string;
  client_id: string;
  token_uri: string;
}

/** What the token endpoint answers, with what the emulator records about the attempt. */
export interface TokenOutcome {
  status: number;
  body: unknown;
  clientEmail: string;
  ok: boolean;
}

/** google-auth-library 10 signs every service-account JWT for this audience, whatever `token_uri` says. */
export const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
export const CLOUD_PLATFORM_SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const JWT_BEARER = 'urn:ietf:params:oauth:grant-type:jwt-bearer';
/** Google rejects assertions valid for longer than an hour. */
const MAX_ASSERTION_LIFETIME_S = 3600;
/** Tolerated clock skew for `iat`, so a client clock slightly ahead is not punished. */
const CLOCK_SKEW_S = 300;

const GOOGLE_STATUS: Record<number, string> = {
  400: 'INVALID_ARGUMENT', 401: 'UNAUTHENTICATED', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND', 409: 'ABORTED',
  429: 'RESOURCE_EXHAUSTED', 499: 'CANCELLED', 500: 'INTERNAL', 501: 'UNIMPLEMENTED', 503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

export const UNAUTHENTICATED_MESSAGE = 'Request had invalid authentication credentials. Expected OAuth 2 access token, '
  + 'login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project.';

/** Google's JSON error envelope (`google.rpc.Status` as served over REST). */
export function googleError(code: number, message?: string): { error: { code: number; message: string; status: string } } {
  const status = GOOGLE_STATUS[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION');
  const fallback: Record<string, string> = {
    INVALID_ARGUMENT: 'Request contains an invalid argument.', UNAUTHENTICATED: UNAUTHENTICATED_MESSAGE,
    PERMISSION_DENIED: 'The caller does not have permission', NOT_FOUND: 'Requested entity was not found.',
    INTERNAL: 'Internal error encountered.', UNAVAILABLE: 'The service is currently unavailable.',
    DEADLINE_EXCEEDED: 'The request timed out. Please try again.',
  };
  return { error: { code, message: message ?? fallback[status] ?? status, status } };
}

/** The quota message Vertex sends for Anthropic models; clients and gateways match on its wording. */
export function quotaMessage(model: string): string {
  const base = `anthropic-${model.split('@')[0] ?? model}`;
  return `Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base model: ${base}. `
    + 'Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.';
}

function oauthError(status: number, error: string, description: string, clientEmail: string): TokenOutcome {
  return { status, body: { error, error_description: description }, clientEmail, ok: false };
}

function decodeJson(segment: string | undefined): Record<string, unknown> | undefined {
  if (segment === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return isRecord(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Issues and checks access tokens. Accounts exist only once `createAccount` made them, so an
 * assertion signed by any other key is refused exactly as Google refuses a forged one.
 */
export class TokenAuthority {
  readonly #accounts = new Map<string, { keyId: string; publicKey: KeyObject }>();
  /** Access token → expiry in ms since the epoch. */
  readonly #tokens = new Map<string, number>();
  readonly #project: string;
  readonly #tokenUrl: string;
  readonly #ttlSeconds: number;
  #serial = 0;

  constructor(project: string, tokenUrl: string, ttlSeconds: number) {
    this.#project = project;
    this.#tokenUrl = tokenUrl;
    this.#ttlSeconds = ttlSeconds;
  }

  createAccount(): ServiceAccount {
    const { publicKey, privateKey } = generateKeyPairSync('rsa', {
      modulusLength: 2048,
      publicKeyEncoding: { type: 'spki', format: 'pem' },
      // Google's key files carry PKCS#8 PEM ("BEGIN PRIVATE KEY"), which is what google-auth-library expects.
      privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
    });
    this.#serial += 1;
    const account: ServiceAccount = {
      type: 'service_account',
      project_id: this.#project,
      private_key_id: randomBytes(20).toString('hex'),
      private_key: privateKey,
      client_email: `emu-sa-${this.#serial}@${this.#project}.iam.gserviceaccount.com`,
      client_id: String(100_000_000_000_000_000_000n + BigInt(this.#serial)),
      token_uri: this.#tokenUrl,
    };
    this.#accounts.set(account.client_email, { keyId: account.private_key_id, publicKey: createPublicKey(publicKey) });
    return account;
  }

  /** `POST /token`: the RFC 7523 JWT-bearer grant as oauth2.googleapis.com implements it for service accounts. */
  exchange(form: URLSearchParams, nowMs = Date.now()): TokenOutcome {
    const assertion = form.get('assertion');
    const grantType = form.get('grant_type');
    if (grantType !== JWT_BEARER) return oauthError(400, 'unsupported_grant_type', `Invalid grant_type: ${grantType ?? ''}`, '');
    if (!assertion) return oauthError(400, 'invalid_request', 'Missing required parameter: assertion', '');
    const [h, p, s] = assertion.split('.');
    const header = decodeJson(h);
    const claims = decodeJson(p);
    if (!header || !claims || s === undefined) return oauthError(400, 'invalid_grant', 'Invalid JWT: malformed assertion.', '');
    const email = typeof claims.iss === 'string' ? claims.iss : '';
    const account = this.#accounts.get(email);
    if (!account) return oauthError(400, 'invalid_grant', 'Invalid grant: account not found', email);
    const signed = Buffer.from(`${h}.${p}`, 'utf8');
    const keyOk = header.kid === undefined || header.kid === account.keyId;
    if (header.alg !== 'RS256' || !keyOk || !verify('sha256', signed, account.publicKey, Buffer.from(s, 'base64url'))) {
      return oauthError(400, 'invalid_grant', 'Invalid JWT Signature.', email);
    }
    if (claims.aud !== GOOGLE_TOKEN_URL && claims.aud !== this.#tokenUrl) {
      return oauthError(400, 'invalid_grant', `Invalid JWT: Failed audience check. The expected audience is ${GOOGLE_TOKEN_URL}.`, email);
    }
    const now = Math.floor(nowMs / 1000);
    const { iat, exp } = claims;
    if (typeof iat !== 'number' || typeof exp !== 'number' || exp <= now || iat > now + CLOCK_SKEW_S
      || exp <= iat || exp - iat > MAX_ASSERTION_LIFETIME_S) {
      return oauthError(400, 'invalid_grant', 'Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable '
        + 'timeframe. Check your iat and exp values in the JWT claim.', email);
    }
    const scopes = typeof claims.scope === 'string' ? claims.scope.split(' ') : [];
    if (!scopes.includes(CLOUD_PLATFORM_SCOPE)) {
      return oauthError(400, 'invalid_scope', 'Invalid OAuth scope or ID token audience provided.', email);
    }
    // A `sub` asks for domain-wide delegation, which no emulated account has been granted.
    if (claims.sub !== undefined) {
      return oauthError(401, 'unauthorized_client', 'Client is unauthorized to retrieve access tokens using this method, '
        + 'or client not authorized for any of the scopes requested.', email);
    }
    const token = `ya29.emu-${randomBytes(36).toString('base64url')}`;
    this.#tokens.set(token, nowMs + this.#ttlSeconds * 1000);
    return { status: 200, body: { access_token: token, expires_in: this.#ttlSeconds, token_type: 'Bearer' }, clientEmail: email, ok: true };
  }

  /** True only for a token this authority issued that has not yet expired. */
  accepts(token: string | undefined, nowMs = Date.now()): boolean {
    const expiry = token === undefined ? undefined : this.#tokens.get(token);
    return expiry !== undefined && nowMs < expiry;
  }
}
