// A loopback stand-in for Vertex AI's Anthropic publisher endpoints plus Google's OAuth token
// endpoint (protocols.md C), faithful enough that @anthropic-ai/vertex-sdk and a real
// google-auth-library accept it, with scripts to make it misbehave the ways Vertex does.
import type { Server, ServerResponse } from 'node:http';
import {
  buildMessage, defaultContent, errorEnvelope, estimateInputTokens, frame, isRecord, randomId, statusForErrorType,
  streamEvents, type ContentBlockSpec, type Usage,
} from './anthropic-sse.js';
import { firstHeader, listenLoopback, LoopbackEmulator, pause, type Exchange as BaseExchange, type RecordedBase } from './loopback-server.js';
import { googleError, quotaMessage, TokenAuthority, type ServiceAccount } from './vertex-auth.js';

export type { ContentBlockSpec, Usage } from './anthropic-sse.js';
export { CLOUD_PLATFORM_SCOPE, GOOGLE_TOKEN_URL, type ServiceAccount } from './vertex-auth.js';

export type VertexOp = 'rawPredict' | 'streamRawPredict' | 'countTokens';

export interface VertexRecorded extends RecordedBase {
  /** Without the query, still percent-encoded as sent. */
  path: string;
  /** Decoded path parts; empty strings when the path is not a prediction route. */
  project: string;
  region: string;
  /** The model segment, decoded (`%3B` → `;`): `count-tokens` for token counting, whose model is in `json.model`. */
  model: string;
  /** `other` marks a path that is none of the three routes (answered 404). */
  op: VertexOp | 'other';
  /** The bearer token sent, whether or not the emulator accepted it. */
  token: string | undefined;
}

export type VertexScript =
  | { kind: 'message'; content?: ContentBlockSpec[]; stopReason?: string; usage?: Partial<Usage> }
  /** Google's front end speaking: `body` (object as JSON, string verbatim) defaults to its envelope for the status. */
  | { kind: 'status'; status: number; body?: unknown; arrayWrapped?: boolean; headers?: Record<string, string> }
  /** The model behind Vertex speaking: Anthropic's envelope, as Vertex relays model errors. */
  | { kind: 'anthropicError'; status: number; type: string; message?: string }
  | { kind: 'errorAfter'; afterEvents: number; error: { type: string; message: string } }
  | { kind: 'stall'; afterEvents: number }
  | { kind: 'reset'; afterEvents?: number }
  | { kind: 'delay'; ms: number; then: VertexScript };

export interface VertexEmulatorOptions {
  /** The only project the emulated credentials may use; others get 403. Default `emu-project`. */
  project?: string;
  /** `expires_in` of issued access tokens, enforced on prediction calls. Default 3600. */
  tokenTtlSeconds?: number;
}

type Exchange = BaseExchange<VertexRecorded>;

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const JSON_TYPE = 'application/json; charset=UTF-8';
/** Vertex accepts the dated Vertex version (CC, SDK 0.x) and the header version SDK 1.x copies into the body. */
const BODY_VERSIONS = ['vertex-2023-10-16', '2026-10-21'];
const ROUTE = /^\/v1\/projects\/([^/]+)\/locations\/([^/]+)\/publishers\/anthropic\/models\/([^/]+):(rawPredict|streamRawPredict)$/;
// What Google's front end serves for a path no API owns: HTML, not JSON, which gateways must survive.
const NOT_FOUND_HTML = '<!DOCTYPE html>\n<html lang=en><meta charset=utf-8><title>Error 404 (Not Found)!!1</title>'
  + '<p><b>404.</b> <ins>That’s an error.</ins><p>The requested URL was not found on this server. <ins>That’s all we know.</ins>\n';

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

function parseRoute(method: string, path: string): Pick<VertexRecorded, 'project' | 'region' | 'model' | 'op'> {
  const m = ROUTE.exec(path);
  const [project, region, model] = [m?.[1], m?.[2], m?.[3]].map((s) => (s === undefined ? undefined : decode(s)));
  if (method !== 'POST' || !m || project === undefined || region === undefined || model === undefined) {
    return { project: '', region: '', model: '', op: 'other' };
  }
  if (model === 'count-tokens') {
    return m[4] === 'rawPredict' ? { project, region, model, op: 'countTokens' } : { project: '', region: '', model: '', op: 'other' };
  }
  return { project, region, model, op: m[4] === 'rawPredict' ? 'rawPredict' : 'streamRawPredict' };
}

/** The model a call is about: the path's, or the body's for token counting. */
function modelOf(rec: VertexRecorded): string {
  const bodyModel = isRecord(rec.json) ? rec.json.model : undefined;
  return rec.op === 'countTokens' && typeof bodyModel === 'string' ? bodyModel : rec.model;
}

/**
 * Vertex AI (Anthropic publisher) and its OAuth token endpoint on 127.0.0.1. Tokens come only
 * from `POST /token` with a JWT signed by a key from `serviceAccount()`. Auth, project, JSON and
 * body shape are checked before a queued script is taken, as Vertex's front door rejects those
 * before any model work; with no script queued the reply is the Anthropic emulator's default.
 */
export class VertexEmulator extends LoopbackEmulator<VertexRecorded, VertexScript> {
  readonly baseUrl: string;
  readonly tokenUrl: string;
  readonly project: string;
  readonly tokenRequests: Array<{ at: number; clientEmail: string; ok: boolean }> = [];
  readonly #authority: TokenAuthority;

  private constructor(server: Server, opts: VertexEmulatorOptions) {
    super(server, { name: 'VertexEmulator', jsonType: JSON_TYPE, requestId: () => randomId('req_vrtx_') });
    this.baseUrl = `${this.url}/v1`;
    this.tokenUrl = `${this.url}/token`;
    this.project = opts.project ?? 'emu-project';
    this.#authority = new TokenAuthority(this.project, this.tokenUrl, opts.tokenTtlSeconds ?? 3600);
  }

  static async start(opts: VertexEmulatorOptions = {}): Promise<VertexEmulator> {
    return new VertexEmulator(await listenLoopback(), opts);
  }

  /** A new service account with a fresh RSA key, known to this emulator only; `token_uri` is `tokenUrl`. */
  serviceAccount(): ServiceAccount {
    return this.#authority.createAccount();
  }

  /** Forgets scripts and records; issued tokens and accounts stay valid so cached client tokens keep working. */
  override reset(): void {
    super.reset();
    this.tokenRequests.length = 0;
  }

  /** The token endpoint is OAuth, not a prediction call: it is counted in `tokenRequests`, not `requests`. */
  protected override serveUnrecorded(method: string, path: string, body: Buffer, res: ServerResponse): boolean {
    if (method !== 'POST' || path !== '/token') return false;
    try {
      this.#token(res, body);
    } catch {
      // A broken exchange must not become an unhandled rejection that takes the test process down.
      if (!res.headersSent) res.writeHead(500).end();
    }
    return true;
  }

  protected override record(base: RecordedBase): VertexRecorded {
    return {
      ...base, ...parseRoute(base.method, base.path),
      token: /^Bearer (.+)$/i.exec(firstHeader(base.headers, 'authorization') ?? '')?.[1],
    };
  }

  protected override serve(ex: Exchange): Promise<void> {
    return this.#route(ex);
  }

  protected override internalError(ex: Exchange): void {
    this.sendBody(ex, 500, JSON_TYPE, googleError(500));
  }

  #token(res: ServerResponse, body: Buffer): void {
    const outcome = this.#authority.exchange(new URLSearchParams(body.toString('utf8')));
    this.tokenRequests.push({ at: Date.now(), clientEmail: outcome.clientEmail, ok: outcome.ok });
    const buf = Buffer.from(JSON.stringify(outcome.body), 'utf8');
    res.writeHead(outcome.status, { 'content-type': JSON_TYPE, 'content-length': buf.length, 'cache-control': 'no-cache, no-store, max-age=0, must-revalidate' });
    res.end(buf);
  }

  #anthropicError(ex: Exchange, status: number, type: string, message?: string): void {
    this.sendBody(ex, status, JSON_TYPE, errorEnvelope(type, ex.requestId, message));
  }

  async #route(ex: Exchange): Promise<void> {
    const { rec } = ex;
    if (rec.op === 'other') return this.sendBody(ex, 404, 'text/html; charset=UTF-8', NOT_FOUND_HTML);
    if (!this.#authority.accepts(rec.token)) {
      return this.sendBody(ex, 401, JSON_TYPE, googleError(401), { 'www-authenticate': 'Bearer realm="https://accounts.google.com/"' });
    }
    if (rec.project !== this.project) {
      const resource = `//aiplatform.googleapis.com/projects/${rec.project}/locations/${rec.region}/publishers/anthropic/models/${rec.model}`;
      return this.sendBody(ex, 403, JSON_TYPE, googleError(403, `Permission 'aiplatform.endpoints.predict' denied on resource '${resource}' (or it may not exist).`));
    }
    const json = rec.json;
    // Body parsing belongs to Google's front end, so a broken body gets Google's envelope, not Anthropic's.
    if (!isRecord(json)) return this.sendBody(ex, 400, JSON_TYPE, googleError(400, 'Invalid JSON payload received.'));
    const bad = (message: string): void => this.#anthropicError(ex, 400, 'invalid_request_error', message);
    if (json.anthropic_version === undefined) return bad('anthropic_version: Field required');
    if (typeof json.anthropic_version !== 'string' || !BODY_VERSIONS.includes(json.anthropic_version)) {
      return bad(`anthropic_version: Input should be ${BODY_VERSIONS.map((v) => `'${v}'`).join(' or ')}`);
    }
    if (rec.op === 'countTokens') {
      if (typeof json.model !== 'string') return bad('model: Field required');
    } else if (json.model !== undefined) {
      return bad('model: Extra inputs are not permitted');
    }
    // Strict on purpose: a gateway that picks the method and the body's `stream` apart has a bug worth failing on.
    if (rec.op === 'streamRawPredict' && json.stream !== true) return bad('stream: streamRawPredict requires "stream": true');
    if (rec.op !== 'streamRawPredict' && json.stream === true) return bad('stream: use streamRawPredict to stream');
    const model = modelOf(rec);
    if (!model.startsWith('claude-')) {
      const name = `projects/${rec.project}/locations/${rec.region}/publishers/anthropic/models/${model}`;
      return this.sendBody(ex, 404, JSON_TYPE, googleError(404, `Publisher Model \`${name}\` not found.`));
    }
    return this.#play(ex, this.nextScript());
  }

  async #play(ex: Exchange, script: VertexScript | undefined): Promise<void> {
    const { rec } = ex;
    const streaming = rec.op === 'streamRawPredict';
    const s: VertexScript = script ?? { kind: 'message' };
    switch (s.kind) {
      case 'delay':
        await pause(s.ms, ex.res);
        if (ex.res.destroyed) return;
        return this.#play(ex, s.then);
      case 'status': {
        const envelope = googleError(s.status, s.status === 429 ? quotaMessage(modelOf(rec)) : undefined);
        const payload: unknown = s.body === undefined ? envelope : s.body;
        const wrapped = s.arrayWrapped ? [payload] : payload;
        return this.sendBody(ex, s.status, typeof wrapped === 'string' ? 'text/plain; charset=UTF-8' : JSON_TYPE, wrapped, s.headers);
      }
      case 'anthropicError':
        return this.#anthropicError(ex, s.status, s.type, s.message);
      case 'reset':
        if (s.afterEvents === undefined) return this.destroy(ex);
        break;
      case 'errorAfter':
        if (!streaming) return this.#anthropicError(ex, statusForErrorType(s.error.type), s.error.type, s.error.message);
        break;
      case 'message':
        if (rec.op === 'countTokens') return this.sendBody(ex, 200, JSON_TYPE, { input_tokens: estimateInputTokens(rec.json) });
        break;
      case 'stall':
        break;
    }

    const json = rec.json;
    // Vertex reports the dated id with a dash ("claude-sonnet-4-5-20250929") and its own id prefix.
    const built = buildMessage(json, s.kind === 'message' && s.content ? s.content : defaultContent(json),
      { model: rec.model.replace('@', '-'), ...(s.kind === 'message' ? s : {}) });
    const msg = { ...built, id: randomId('msg_vrtx_') };
    if (!streaming) return this.answerPlain(ex, s.kind, rec.op === 'countTokens' ? { input_tokens: estimateInputTokens(json) } : msg);

    const events = streamEvents(msg);
    const limit = s.kind === 'message' ? events.length : s.afterEvents ?? 0;
    ex.res.writeHead(200, SSE_HEADERS);
    ex.res.flushHeaders();
    for (const e of events.slice(0, limit)) {
      if (!(await this.write(ex, frame(e.event, e.data)))) return;
    }
    if (await this.cutStream(ex, s.kind)) return;
    if (s.kind === 'errorAfter') await this.write(ex, frame('error', { type: 'error', error: s.error }));
    ex.res.end();
  }
}
