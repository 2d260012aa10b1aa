// Wire-level pieces of Bedrock Runtime (protocols.md B1–B5), kept apart from the HTTP plumbing in
// bedrock.ts: routes, event-stream frames, the AWS error catalogue, Bedrock's body rules and SigV4 checking.
import { createHash, randomInt } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { EventStreamCodec, type MessageHeaders } from '@smithy/eventstream-codec';
import { Hash } from '@smithy/hash-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { isRecord } from './anthropic-sse.js';

export const EVENTSTREAM_TYPE = 'application/vnd.amazon.eventstream';

// --- routes (B1) -----------------------------------------------------------------------------
export type Route = 'invoke' | 'stream' | 'count' | 'profiles' | 'profile';
const ROUTES: Record<string, Route> = { invoke: 'invoke', 'invoke-with-response-stream': 'stream', 'count-tokens': 'count' };

function decodeModelId(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw; // A stray '%' is not an escape; Bedrock would then fail to resolve the model, not the URL.
  }
}

export function routeOf(method: string, path: string): { route: Route; modelId: string } | undefined {
  const m = /^\/model\/(.+)\/(invoke|invoke-with-response-stream|count-tokens)$/.exec(path);
  const route = m?.[2] === undefined ? undefined : ROUTES[m[2]];
  if (method === 'POST' && route) return { route, modelId: decodeModelId(m?.[1] ?? '') };
  if (method === 'GET' && path === '/inference-profiles') return { route: 'profiles', modelId: '' };
  if (method === 'GET' && /^\/inference-profiles\/[^/]+$/.test(path)) return { route: 'profile', modelId: '' };
  return undefined;
}

// --- event-stream frames (B4) -----------------------------------------------------------------
const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PAD = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

function encode(headers: Array<[string, string]>, payload: unknown): Buffer {
  const h: MessageHeaders = {};
  for (const [name, value] of headers) h[name] = { type: 'string', value };
  return Buffer.from(codec.encode({ headers: h, body: fromUtf8(JSON.stringify(payload)) }));
}

/** One `chunk` frame carrying one Anthropic stream event, in the header order Bedrock uses. */
export function chunkFrame(event: unknown): Buffer {
  const bytes = Buffer.from(JSON.stringify(event), 'utf8').toString('base64');
  // Bedrock pads every chunk to a random length (so sizes do not leak token lengths); decoders must ignore `p`.
  return encode([[':event-type', 'chunk'], [':content-type', 'application/json'], [':message-type', 'event']],
    { bytes, p: PAD.slice(0, randomInt(1, PAD.length + 1)) });
}

/** A modeled exception frame; Smithy turns `:exception-type` (the camelCase union member) into the error class. */
export function exceptionFrame(member: string, message: string): Buffer {
  const payload: Record<string, unknown> = { message };
  if (member === 'modelStreamErrorException') Object.assign(payload, { originalStatusCode: 500, originalMessage: message });
  return encode([[':exception-type', member], [':content-type', 'application/json'], [':message-type', 'exception']], payload);
}

/**
 * How frame `i` goes on the wire. Real responses arrive in TCP reads that ignore frame edges, so a
 * fixed rotation makes every stream exercise both cases: `split` sends a frame in two writes (cut
 * inside the prelude or inside the payload), `joined` holds a frame back to share the next write.
 */
export function framing(i: number): { kind: 'whole' } | { kind: 'joined' } | { kind: 'split'; at: (length: number) => number } {
  switch (i % 4) {
    case 1: return { kind: 'split', at: i % 8 === 1 ? () => 7 : (n) => Math.floor(n / 2) };
    case 2: return { kind: 'joined' };
    default: return { kind: 'whole' };
  }
}

// --- AWS errors (B5) --------------------------------------------------------------------------
const BEDROCK_NS = 'http://internal.amazon.com/coral/com.amazon.bedrock/';
// Auth and routing failures come from the shared AWS front door, which names its own namespace.
const FRONT_DOOR_NS = 'http://internal.amazon.com/coral/com.amazon.coral.service/';
const FRONT_DOOR = new Set(['UnrecognizedClientException', 'InvalidSignatureException', 'IncompleteSignatureException',
  'MissingAuthenticationTokenException', 'UnknownOperationException']);

const STATUS: Record<string, number> = {
  ValidationException: 400, ConflictException: 400, ServiceQuotaExceededException: 400, AccessDeniedException: 403,
  ResourceNotFoundException: 404, ModelTimeoutException: 408, ModelErrorException: 424, ModelStreamErrorException: 424,
  ThrottlingException: 429, ModelNotReadyException: 429, InternalServerException: 500, ServiceUnavailableException: 503,
  UnrecognizedClientException: 403, InvalidSignatureException: 403, IncompleteSignatureException: 403,
  MissingAuthenticationTokenException: 403, UnknownOperationException: 404,
};

const MESSAGES: Record<string, string> = {
  ValidationException: 'Malformed input request, please reformat your input and try again.',
  AccessDeniedException: "You don't have access to the model with the specified model ID.",
  ResourceNotFoundException: 'Could not resolve the foundation model from the provided model identifier.',
  ModelTimeoutException: 'Model has timed out in processing the request. Try your request again.',
  ModelErrorException: 'The model encountered an error processing your request.',
  ModelStreamErrorException: 'The model encountered an error while streaming the response.',
  ThrottlingException: 'Too many requests, please wait before trying again.',
  ModelNotReadyException: 'Model is not ready to serve inference requests. Try your request again.',
  InternalServerException: 'The system encountered an unexpected error during processing. Try your request again.',
  ServiceUnavailableException: 'Bedrock is unable to process your request.',
};

/** HTTP status Bedrock uses for an error type (schemas_0.js); unknown 5xx-sounding names fall back to 500. */
export function statusForError(type: string): number {
  return STATUS[type] ?? 500;
}

export function errorMessageFor(type: string): string {
  return MESSAGES[type] ?? type;
}

/** `x-amzn-ErrorType` is what Smithy reads first to pick the exception class. */
export function errorTypeHeader(type: string): string {
  return `${type}:${FRONT_DOOR.has(type) ? FRONT_DOOR_NS : BEDROCK_NS}`;
}

/** `throttlingException` (event-stream member) → `ThrottlingException` (HTTP error type). */
export function typeForMember(member: string): string {
  return member.charAt(0).toUpperCase() + member.slice(1);
}

// --- body rules (B2) --------------------------------------------------------------------------
export const BEDROCK_VERSIONS = ['bedrock-2023-05-31', '2026-10-21'];
const malformed = (detail: string): string => `Malformed input request: ${detail}, please reformat your input and try again.`;
const jsonType = (v: unknown): string =>
  Array.isArray(v) ? 'JSONArray' : v === null ? 'Null' : typeof v === 'string' ? 'String' : typeof v === 'number'
    ? (Number.isInteger(v) ? 'Integer' : 'BigDecimal') : typeof v === 'boolean' ? 'Boolean' : 'JSONObject';

/** Bedrock's JSON-schema check of an InvokeModel body, in its own wording; undefined when the body passes. */
export function invokeBodyError(json: unknown): string | undefined {
  if (!isRecord(json)) return malformed(`#: expected type: JSONObject, found: ${json === undefined ? 'nothing' : jsonType(json)}`);
  for (const key of ['model', 'stream']) if (key in json) return malformed(`#: extraneous key [${key}] is not permitted`);
  const version = json.anthropic_version;
  if (version === undefined) return malformed('#: required key [anthropic_version] not found');
  if (typeof version !== 'string' || !BEDROCK_VERSIONS.includes(version)) {
    return malformed(`#/anthropic_version: ${JSON.stringify(version)} is not a valid enum value`);
  }
  const betas = json.anthropic_beta;
  if (betas === undefined) return undefined;
  if (!Array.isArray(betas)) return malformed(`#/anthropic_beta: expected type: JSONArray, found: ${jsonType(betas)}`);
  const bad = betas.findIndex((b) => typeof b !== 'string');
  return bad < 0 ? undefined : malformed(`#/anthropic_beta/${bad}: expected type: String, found: ${jsonType(betas[bad])}`);
}

/** Bedrock answers with the model's own name, not the inference-profile id it was called with. */
export function modelNameFor(modelId: string): string {
  const last = modelId.split('/').pop() ?? modelId;
  return last.replace(/^(us|eu|jp|apac|au|global|us-gov)\./, '').replace(/^anthropic\./, '').replace(/-v\d+(:\d+)?$/, '');
}

// --- SigV4 (B3) -------------------------------------------------------------------------------
export interface AwsCredential { accessKeyId: string; secretAccessKey: string; sessionToken?: string }
export interface AuthFailure { type: string; message: string }
export interface SignedRequest { method: string; url: string; headers: IncomingHttpHeaders; body: Buffer }

const SIGNATURE_MISMATCH = 'The request signature we calculated does not match the signature you provided. '
  + 'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const BAD_TOKEN = 'The security token included in the request is invalid.';
const SKEW_MS = 15 * 60_000;
const sha256 = Hash.bind(null, 'sha256');

const header = (h: IncomingHttpHeaders, name: string): string | undefined => {
  const v = h[name];
  return Array.isArray(v) ? v.join(',') : v;
};
const amzDate = (d: Date): string => d.toISOString().replace(/[-:]|\.\d{3}/g, '');

/**
 * Checks an `AWS4-HMAC-SHA256` request the way the AWS front door does: the key must be known, the
 * scope must name this region and `bedrock`, the date must be within 15 minutes, and the signature
 * recomputed over exactly the SignedHeaders, the path as sent and the real body hash must match.
 */
export async function verifySigV4(req: SignedRequest, region: string, creds: readonly AwsCredential[]): Promise<AuthFailure | undefined> {
  const auth = header(req.headers, 'authorization') ?? '';
  const m = /^AWS4-HMAC-SHA256\s+(.*)$/.exec(auth);
  const params = new Map((m?.[1] ?? '').split(/\s*,\s*/).map((p) => [p.slice(0, p.indexOf('=')), p.slice(p.indexOf('=') + 1)] as const));
  const missing = ['Credential', 'SignedHeaders', 'Signature'].filter((p) => !params.get(p));
  if (!m || missing.length > 0) {
    return { type: 'IncompleteSignatureException', message: `${missing.map((p) => `Authorization header requires '${p}' parameter.`).join(' ')} Authorization=${auth}` };
  }
  const [keyId = '', day = '', scopeRegion = '', service = '', terminator = ''] = (params.get('Credential') ?? '').split('/');
  const cred = creds.find((c) => c.accessKeyId === keyId);
  // A session credential is only valid with its token, and a long-term key never carries one.
  if (!cred || (cred.sessionToken ?? '') !== (header(req.headers, 'x-amz-security-token') ?? '')) {
    return { type: 'UnrecognizedClientException', message: BAD_TOKEN };
  }
  if (scopeRegion !== region) return { type: 'InvalidSignatureException', message: `Credential should be scoped to a valid region, not '${scopeRegion}'. ` };
  if (service !== 'bedrock') return { type: 'InvalidSignatureException', message: "Credential should be scoped to correct service: 'bedrock'. " };
  if (terminator !== 'aws4_request') return { type: 'InvalidSignatureException', message: `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. ` };
  const xDate = header(req.headers, 'x-amz-date') ?? '';
  const when = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(xDate);
  if (!when) return { type: 'IncompleteSignatureException', message: `Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header. Authorization=${auth}` };
  if (day !== xDate.slice(0, 8)) {
    return { type: 'InvalidSignatureException', message: `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${day}' != '${xDate.slice(0, 8)}', from '${xDate}'.` };
  }
  const signingDate = new Date(`${when[1]}-${when[2]}-${when[3]}T${when[4]}:${when[5]}:${when[6]}Z`);
  const now = Date.now();
  if (signingDate.getTime() < now - SKEW_MS) {
    return { type: 'InvalidSignatureException', message: `Signature expired: ${xDate} is now earlier than ${amzDate(new Date(now - SKEW_MS))} (${amzDate(new Date(now))} - 15 min.)` };
  }
  if (signingDate.getTime() > now + SKEW_MS) {
    return { type: 'InvalidSignatureException', message: `Signature not yet current: ${xDate} is still later than ${amzDate(new Date(now + SKEW_MS))} (${amzDate(new Date(now))} + 15 min.)` };
  }
  const signed = (params.get('SignedHeaders') ?? '').split(';');
  if (!signed.includes('host')) return { type: 'InvalidSignatureException', message: "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization." };
  // For non-S3 services the body hash in the canonical request is always recomputed; a stale header cannot vouch for it.
  const bodyHash = createHash('sha256').update(req.body).digest('hex');
  const claimed = header(req.headers, 'x-amz-content-sha256');
  if (claimed !== undefined && claimed !== bodyHash) return { type: 'InvalidSignatureException', message: SIGNATURE_MISMATCH };

  const headers: Record<string, string> = {};
  for (const name of signed) {
    const v = header(req.headers, name);
    if (v !== undefined) headers[name] = v;
  }
  const [path = '/', rawQuery = ''] = req.url.split('?', 2);
  const query: Record<string, string | string[]> = {};
  for (const pair of rawQuery.split('&').filter(Boolean)) {
    const eq = pair.indexOf('=');
    const [k, v] = (eq < 0 ? [pair, ''] : [pair.slice(0, eq), pair.slice(eq + 1)]).map((s) => decodeURIComponent(s.replace(/\+/g, ' ')));
    const prev = query[k ?? ''];
    query[k ?? ''] = prev === undefined ? v ?? '' : [...(Array.isArray(prev) ? prev : [prev]), v ?? ''];
  }
  const { accessKeyId, secretAccessKey } = cred;
  const token = signed.includes('x-amz-security-token') ? cred.sessionToken : undefined;
  // The default uriEscapePath escapes the path as sent once more, which is how AWS canonicalises
  // non-S3 paths: `v1:0` is signed as `v1%3A0`, and the AWS SDK's `v1%3A0` as `v1%253A0`.
  // applyChecksum is off so the signer adds no x-amz-content-sha256 the client did not sign.
  const signer = new SignatureV4({ service: 'bedrock', region, sha256, applyChecksum: false,
    credentials: token === undefined ? { accessKeyId, secretAccessKey } : { accessKeyId, secretAccessKey, sessionToken: token } });
  const host = headers.host ?? '';
  const out = await signer.sign({ method: req.method, protocol: 'http:', hostname: host.replace(/:\d+$/, ''), path, query, headers, body: req.body },
    { signingDate, signableHeaders: new Set(signed) });
  const expected = /Signature=([0-9a-f]+)/.exec(String(out.headers.authorization ?? ''))?.[1];
  return expected !== undefined && expected === params.get('Signature') ? undefined : { type: 'InvalidSignatureException', message: SIGNATURE_MISMATCH };
}
