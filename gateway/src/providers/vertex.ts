import { gaxios, GoogleAuth, JWT } from 'google-auth-library';
import type { ProviderConfig } from '../config/schema.js';
import { errors, type AnthropicErrorType } from '../wire/errors.js';
import { applyCapabilities, CAPABILITIES } from './capabilities.js';
import { listedModels, mappedIds, providerModelId } from './model-map.js';
import { anthropicErrorAnswer } from './upstream-error.js';
import { readAll, type AdaptedAnswer, type InboundCall, type Provider, type UpstreamAnswer, type UpstreamRequest } from './types.js';

type VertexConfig = Extract<ProviderConfig, { kind: 'vertex' }>;

export type VertexAuth = { kind: 'service_account'; json: string } | { kind: 'adc' } | { kind: 'missing'; missing: string };

const SCOPE = 'https://www.googleapis.com/auth/cloud-platform';
const GOOGLE_TOKEN_URL = 'https://oauth2.googleapis.com/token';
const VERTEX_VERSION = 'vertex-2023-10-16';

/** Vertex's base URL by region (the Vertex SDK's rule). */
export function vertexBaseUrl(region: string): string {
  if (region === 'global') return 'https://aiplatform.googleapis.com/v1';
  if (region === 'us' || region === 'eu') return `https://aiplatform.${region}.rep.googleapis.com/v1`;
  return `https://${region}-aiplatform.googleapis.com/v1`;
}

type TokenSource = () => Promise<string | null | undefined>;

/**
 * google-auth-library signs the service account's JWT and caches the token, refreshing it
 * 5 minutes before expiry. Its token URL is fixed, so a configured `token_url` (a private
 * endpoint, or the test emulator) is applied by an interceptor on its own HTTP client.
 */
function tokenSource(cfg: VertexConfig, auth: VertexAuth): TokenSource | undefined {
  const transporter = new gaxios.Gaxios();
  if (cfg.token_url) {
    const target = cfg.token_url;
    transporter.interceptors.request.add({
      resolved: async (opts) => (String(opts.url) === GOOGLE_TOKEN_URL ? { ...opts, url: new URL(target) } : opts),
    });
  }
  const eagerRefreshThresholdMillis = 5 * 60_000;
  if (auth.kind === 'service_account') {
    const sa = JSON.parse(auth.json) as { client_email?: string; private_key?: string; private_key_id?: string };
    const jwt = new JWT({ email: sa.client_email, key: sa.private_key, keyId: sa.private_key_id, scopes: [SCOPE], transporter, eagerRefreshThresholdMillis });
    return async () => (await jwt.getAccessToken()).token;
  }
  if (auth.kind === 'adc') {
    const adc = new GoogleAuth({ scopes: [SCOPE], clientOptions: { transporter, eagerRefreshThresholdMillis } });
    return () => adc.getAccessToken();
  }
  return undefined;
}

interface GoogleEnvelope {
  error?: { code?: number; message?: string; status?: string };
}

function googleError(status: number, googleStatus: string | undefined): { status: number; type: AnthropicErrorType } {
  switch (googleStatus ?? '') {
    case 'RESOURCE_EXHAUSTED':
      return { status: 429, type: 'rate_limit_error' };
    case 'NOT_FOUND':
      return { status: 404, type: 'not_found_error' };
    case 'UNAVAILABLE':
      return { status: 529, type: 'overloaded_error' };
    case 'DEADLINE_EXCEEDED':
      return { status: 504, type: 'timeout_error' };
  }
  if (status === 429) return { status: 429, type: 'rate_limit_error' };
  if (status === 404) return { status: 404, type: 'not_found_error' };
  return status >= 500 ? { status: 500, type: 'api_error' } : { status: 400, type: 'invalid_request_error' };
}

/**
 * Google Vertex AI's rawPredict / streamRawPredict for Anthropic's models. The body loses
 * `model` (it is in the URL), keeps `stream`, and gains `anthropic_version`; answers are
 * already Anthropic's, except Google's own error envelope, which is translated.
 */
export function vertexProvider(slug: string, cfg: VertexConfig, auth: VertexAuth): Provider {
  const base = new URL(cfg.base_url ?? vertexBaseUrl(cfg.region));
  const basePath = base.pathname.replace(/\/+$/, '');
  const tokens = tokenSource(cfg, auth);

  async function bearer(): Promise<string> {
    try {
      const token = await tokens!();
      if (token) return token;
      throw new Error('no token was returned');
    } catch (e) {
      throw errors.providerCredentialsRejected(slug, `getting a Google access token failed (${e instanceof Error ? e.message : String(e)}).`);
    }
  }

  function adapter(call: InboundCall) {
    return async (answer: UpstreamAnswer): Promise<AdaptedAnswer> => {
      if (answer.statusCode < 400) {
        return { status: answer.statusCode, headers: answer.headers, body: answer.body, sse: String(answer.headers['content-type'] ?? '').startsWith('text/event-stream') };
      }
      const raw = await readAll(answer.body);
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw.toString('utf8'));
      } catch {
        parsed = undefined;
      }
      // Model errors already come in Anthropic's envelope: relay them untouched.
      if (typeof parsed === 'object' && parsed !== null && (parsed as { type?: unknown }).type === 'error') {
        return { status: answer.statusCode, headers: answer.headers, body: [raw], sse: false };
      }
      // Google's envelope, sometimes wrapped in an array (quota errors).
      const env = (Array.isArray(parsed) ? parsed[0] : parsed) as GoogleEnvelope | undefined;
      const gStatus = env?.error?.status;
      const message = env?.error?.message ?? raw.toString('utf8').slice(0, 500);
      if (answer.statusCode === 401 || answer.statusCode === 403) {
        const e = errors.providerCredentialsRejected(slug, `Vertex said ${gStatus ?? answer.statusCode}: ${message}`);
        return anthropicErrorAnswer(call.requestId, answer.headers, e);
      }
      return anthropicErrorAnswer(call.requestId, answer.headers, { code: `vertex_${(gStatus ?? String(answer.statusCode)).toLowerCase()}`, ...googleError(answer.statusCode, gStatus), message: `Vertex ${gStatus ?? answer.statusCode}: ${message}` });
    };
  }

  return {
    slug,
    kind: 'vertex',
    unavailable: auth.kind === 'missing' ? auth.missing : undefined,
    models: listedModels(cfg.models, mappedIds),
    origin: base.origin,
    credentials: auth.kind === 'service_account' ? 'service account' : 'application default credentials',
    async prepare(call: InboundCall): Promise<UpstreamRequest> {
      const requested = call.body.string('model');
      if (!requested) throw errors.invalidParam('model: a model id is required.');
      const model = providerModelId('vertex', slug, requested, cfg.models);
      const stream = call.op === 'messages' && call.body.boolean('stream') === true;
      const caps = applyCapabilities(CAPABILITIES.vertex, call.headers['anthropic-beta'], call.body.members.keys());
      const counting = call.op === 'count_tokens';
      const body = call.body.edit(counting ? caps.removeFields : ['model', ...caps.removeFields], { anthropic_version: VERTEX_VERSION, ...(counting ? { model } : {}) });
      const target = counting ? 'count-tokens:rawPredict' : `${encodeURIComponent(model).replace(/%40/g, '@')}:${stream ? 'streamRawPredict' : 'rawPredict'}`;
      const path = `${basePath}/projects/${encodeURIComponent(cfg.project)}/locations/${encodeURIComponent(cfg.region)}/publishers/anthropic/models/${target}`;
      const headers: Record<string, string> = { ...call.headers, 'content-type': 'application/json', authorization: `Bearer ${await bearer()}` };
      delete headers['anthropic-beta'];
      if (caps.betas.length) headers['anthropic-beta'] = caps.betas.join(',');
      return { origin: base.origin, path, method: 'POST', headers, body, adapt: adapter(call), dropped: caps.dropped };
    },
  };
}
