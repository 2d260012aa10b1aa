import { fromNodeProviderChain } from '@aws-sdk/credential-providers';
import { Hash } from '@smithy/hash-node';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { ProviderConfig } from '../config/schema.js';
import { errors } from '../wire/errors.js';
import { eventStreamToSse, type InvocationMetrics } from './bedrock-stream.js';
import { bedrockErrorName, bedrockHttpError, isCredentialError } from './bedrock-errors.js';
import { applyCapabilities, CAPABILITIES } from './capabilities.js';
import { listedModels, mappedIds, providerModelId } from './model-map.js';
import { anthropicErrorAnswer } from './upstream-error.js';
import { readAll, type AdaptedAnswer, type InboundCall, type Provider, type UpstreamAnswer, type UpstreamRequest } from './types.js';

type BedrockConfig = Extract<ProviderConfig, { kind: 'bedrock' }>;

/** How the gateway authenticates to Bedrock, resolved at start. */
export type BedrockAuth =
  | { kind: 'api_key'; apiKey: string }
  | { kind: 'static'; credentials: AwsCredentialIdentity }
  | { kind: 'default_chain' }
  | { kind: 'missing'; missing: string };

const BEDROCK_VERSION = 'bedrock-2023-05-31';

function defaultProfile(region: string): string {
  if (region.startsWith('us-') || region.startsWith('ca-')) return 'us.';
  if (region.startsWith('eu-')) return 'eu.';
  if (region.startsWith('ap-')) return 'apac.';
  return '';
}

/**
 * AWS Bedrock's InvokeModel API (not Converse: the body stays Anthropic's). The body loses
 * `model` and `stream`, gains `anthropic_version`, and the `anthropic-beta` header becomes its
 * `anthropic_beta` array; requests are signed with SigV4 or a Bedrock API key.
 */
export function bedrockProvider(slug: string, cfg: BedrockConfig, auth: BedrockAuth): Provider {
  const base = new URL(cfg.base_url ?? `https://bedrock-runtime.${cfg.region}.amazonaws.com`);
  const prefix = base.pathname.replace(/\/+$/, '');
  const profile = cfg.inference_profile === undefined ? defaultProfile(cfg.region) : cfg.inference_profile === 'none' ? '' : `${cfg.inference_profile}.`;
  let chain: AwsCredentialIdentityProvider | undefined;
  const credentials = (): AwsCredentialIdentity | AwsCredentialIdentityProvider => {
    if (auth.kind === 'static') return auth.credentials;
    // The SDK's own chain: environment, shared profile, web identity, instance metadata; it caches and refreshes.
    chain ??= fromNodeProviderChain();
    return chain;
  };
  const signer = new SignatureV4({ service: 'bedrock', region: cfg.region, sha256: Hash.bind(null, 'sha256'), credentials: () => Promise.resolve(credentials()).then((c) => (typeof c === 'function' ? c() : c)) });

  async function sign(path: string, headers: Record<string, string>, body: Buffer): Promise<Record<string, string>> {
    if (auth.kind === 'api_key') return { ...headers, authorization: `Bearer ${auth.apiKey}` };
    const request = new HttpRequest({ method: 'POST', protocol: base.protocol, hostname: base.hostname, port: base.port ? Number(base.port) : undefined, path, headers: { ...headers, host: base.host }, body });
    try {
      const signed = await signer.sign(request);
      return signed.headers;
    } catch (e) {
      throw errors.providerNotConfigured(slug, `no AWS credentials were found (${e instanceof Error ? e.message : String(e)}). Set access_key_id and secret_access_key, api_key, or the environment the default AWS credential chain reads (AWS_ACCESS_KEY_ID, AWS_PROFILE, web identity, instance role).`);
    }
  }

  function adapter(call: InboundCall, stream: boolean) {
    return async (answer: UpstreamAnswer): Promise<AdaptedAnswer> => {
      const requestId = answer.headers['x-amzn-requestid'];
      const idHeader = typeof requestId === 'string' ? { 'request-id': requestId } : {};
      if (answer.statusCode >= 400) {
        const text = (await readAll(answer.body)).toString('utf8');
        let message = text;
        try {
          message = (JSON.parse(text) as { message?: string; Message?: string }).message ?? text;
        } catch {
          // Not JSON (a proxy's HTML page, say): keep the text.
        }
        const header = answer.headers['x-amzn-errortype'];
        const name = bedrockErrorName(typeof header === 'string' ? header : undefined) || `HTTP ${answer.statusCode}`;
        if (isCredentialError(name) || answer.statusCode === 401) {
          const e = errors.providerCredentialsRejected(slug, `Bedrock said ${name}: ${message}.`);
          return anthropicErrorAnswer(call.requestId, answer.headers, e);
        }
        const mapped = bedrockHttpError(name, answer.statusCode);
        return anthropicErrorAnswer(call.requestId, answer.headers, { code: `bedrock_${name}`, ...mapped, message: `Bedrock ${name}: ${message}` });
      }
      if (call.op === 'count_tokens') {
        const counted = JSON.parse((await readAll(answer.body)).toString('utf8')) as { inputTokens?: number };
        const body = Buffer.from(JSON.stringify({ input_tokens: counted.inputTokens ?? 0 }));
        return { status: 200, headers: { ...idHeader, 'content-type': 'application/json', 'content-length': String(body.length) }, body: [body], sse: false };
      }
      if (stream) {
        let metrics: InvocationMetrics | undefined;
        const body = eventStreamToSse(answer.body, { pingMs: cfg.ping_interval_ms, onMetrics: (m) => (metrics = m) });
        return { status: 200, headers: { ...idHeader, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' }, body, sse: true, providerUsage: () => metrics };
      }
      return { status: answer.statusCode, headers: { ...idHeader, 'content-type': 'application/json', 'content-length': answer.headers['content-length'] }, body: answer.body, sse: false };
    };
  }

  return {
    slug,
    kind: 'bedrock',
    unavailable: auth.kind === 'missing' ? auth.missing : undefined,
    models: listedModels(cfg.models, mappedIds),
    origin: base.origin,
    credentials: auth.kind === 'api_key' ? 'Bedrock API key' : auth.kind === 'static' ? 'static AWS keys' : 'default AWS credential chain',
    async prepare(call: InboundCall): Promise<UpstreamRequest> {
      const requested = call.body.string('model');
      if (!requested) throw errors.invalidParam('model: a model id is required.');
      const modelId = providerModelId('bedrock', slug, requested, cfg.models, profile);
      const stream = call.op === 'messages' && call.body.boolean('stream') === true;
      const caps = applyCapabilities(CAPABILITIES.bedrock, call.headers['anthropic-beta'], call.body.members.keys());
      const invoke = call.body.edit(['model', 'stream', ...caps.removeFields], {
        anthropic_version: BEDROCK_VERSION,
        ...(caps.betas.length ? { anthropic_beta: caps.betas } : {}),
      });
      const op = call.op === 'count_tokens' ? 'count-tokens' : stream ? 'invoke-with-response-stream' : 'invoke';
      const body = call.op === 'count_tokens' ? Buffer.from(JSON.stringify({ input: { invokeModel: { body: invoke.toString('base64') } } })) : invoke;
      const path = `${prefix}/model/${encodeURIComponent(modelId)}/${op}`;
      const headers: Record<string, string> = {
        'content-type': 'application/json',
        accept: stream ? 'application/vnd.amazon.eventstream' : 'application/json',
        ...(stream ? { 'x-amzn-bedrock-accept': 'application/json' } : {}),
      };
      return { origin: base.origin, path, method: 'POST', headers: await sign(path, headers, body), body, adapt: adapter(call, stream), dropped: caps.dropped };
    },
  };
}
