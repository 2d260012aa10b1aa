// A loopback stand-in for Bedrock Runtime (protocols.md B1–B5), faithful enough that the official AWS
// and Anthropic Bedrock clients accept it, SigV4 included, with scripts to make it fail the ways Bedrock does.
import { randomUUID } from 'node:crypto';
import type { OutgoingHttpHeaders, Server } from 'node:http';
import {
  buildMessage, defaultContent, estimateInputTokens, isRecord, randomId, streamEvents,
  type ContentBlockSpec, type MessageBody, type Usage,
} from './anthropic-sse.js';
import {
  chunkFrame, errorMessageFor, errorTypeHeader, EVENTSTREAM_TYPE, exceptionFrame, framing, invokeBodyError, modelNameFor,
  routeOf, statusForError, typeForMember, verifySigV4, type AuthFailure, type AwsCredential, type Route,
} from './bedrock-frames.js';
import { firstHeader, listenLoopback, LoopbackEmulator, pause, type Exchange as BaseExchange, type RecordedBase } from './loopback-server.js';

export type { ContentBlockSpec, Usage } from './anthropic-sse.js';
export type { AwsCredential } from './bedrock-frames.js';

export interface BedrockRecorded extends RecordedBase {
  /** Without the query, exactly as sent (the model id still percent-encoded if it was). */
  path: string;
  /** Decoded model id (`…-v1:0` whether it came raw or as `%3A`); '' for routes without one. */
  modelId: string;
  /** The credential the request presented, valid or not. */
  auth: 'sigv4' | 'bearer' | 'none';
}

export type BedrockScript =
  | { kind: 'message'; content?: ContentBlockSpec[]; stopReason?: string; usage?: Partial<Usage> }
  /** `status` defaults to the one Bedrock uses for `errorType` (ThrottlingException → 429, …). */
  | { kind: 'status'; status?: number; errorType: string; message?: string; headers?: Record<string, string> }
  /** Mid-stream exception frame; on `invoke` and `count-tokens` it becomes the matching HTTP error. */
  | { kind: 'exception'; afterEvents: number; exceptionType: string; message: string }
  | { kind: 'stall'; afterEvents: number }
  | { kind: 'reset'; afterEvents?: number }
  | { kind: 'delay'; ms: number; then: BedrockScript }
  /** Pause `ms` after `afterEvents` chunks, then finish normally (a non-stream answer is just delayed). */
  | { kind: 'silence'; afterEvents: number; ms: number };

export interface BedrockEmulatorOptions {
  region?: string;
  credentials?: AwsCredential[];
  apiKeys?: string[];
  /** Requests with no `authorization` header are served (as with CLAUDE_CODE_SKIP_BEDROCK_AUTH); bad credentials still fail. */
  allowUnsigned?: boolean;
  eventDelayMs?: number;
}

type Exchange = BaseExchange<BedrockRecorded>;

const JSON_TYPE = 'application/json';
// Long enough that the two halves of a split frame reach the client as separate reads.
const SPLIT_GAP_MS = 3;

/**
 * Bedrock Runtime on 127.0.0.1 over HTTP/1.1 (so the AWS SDK needs `NodeHttpHandler`). Scripts
 * queued with `enqueue` answer invoke, invoke-with-response-stream and count-tokens in order; with
 * none queued the reply is the Anthropic emulator's default (`defaultContent`). Auth and Bedrock's
 * body rules are checked before a script is taken, as the real front door rejects those first.
 */
export class BedrockEmulator extends LoopbackEmulator<BedrockRecorded, BedrockScript> {
  /** A fresh object each time: the AWS SDK writes bookkeeping onto the credentials it is given. */
  static get DEFAULT_CREDENTIALS(): { accessKeyId: string; secretAccessKey: string } {
    return { accessKeyId: 'AKIAEMULATOR00000001', secretAccessKey: 'emulatorSecretKey/0000000000/EXAMPLEKEY00' };
  }

  readonly region: string;
  readonly #opts: BedrockEmulatorOptions;
  readonly #credentials: readonly AwsCredential[];

  private constructor(server: Server, opts: BedrockEmulatorOptions) {
    super(server, { name: 'BedrockEmulator', jsonType: JSON_TYPE, requestId: randomUUID });
    this.#opts = opts;
    this.region = opts.region ?? 'us-east-1';
    this.#credentials = opts.credentials ?? [BedrockEmulator.DEFAULT_CREDENTIALS];
  }

  static async start(opts: BedrockEmulatorOptions = {}): Promise<BedrockEmulator> {
    return new BedrockEmulator(await listenLoopback(), opts);
  }

  protected override record(base: RecordedBase): BedrockRecorded {
    const authorization = firstHeader(base.headers, 'authorization');
    return {
      ...base, modelId: routeOf(base.method, base.path)?.modelId ?? '',
      auth: authorization === undefined ? 'none' : /^Bearer /i.test(authorization) ? 'bearer' : 'sigv4',
    };
  }

  protected override async serve(ex: Exchange): Promise<void> {
    const { method, path } = ex.rec;
    const found = routeOf(method, path);
    if (!found) return this.#sendError(ex, 'UnknownOperationException', `Unknown operation: ${method} ${path}`);
    await this.#route(ex, found.route);
  }

  protected override internalError(ex: Exchange): void {
    this.#sendError(ex, 'InternalServerException');
  }

  async #route(ex: Exchange, route: Route): Promise<void> {
    const denied = await this.#authenticate(ex);
    if (denied) return this.#sendError(ex, denied.type, denied.message, undefined, undefined, denied.field);
    if (route === 'profiles') return this.sendBody(ex, 200, JSON_TYPE, { inferenceProfileSummaries: [] });
    if (route === 'profile') return this.#sendError(ex, 'ResourceNotFoundException', 'The specified inference profile was not found.');
    // The InvokeModel body the answer is built from: the request itself, or count-tokens' embedded copy.
    let invoke = ex.rec.json;
    if (route === 'count') {
      const inner = isRecord(ex.rec.json) && isRecord(ex.rec.json.input) && isRecord(ex.rec.json.input.invokeModel)
        ? ex.rec.json.input.invokeModel.body : undefined;
      if (typeof inner !== 'string') {
        return this.#sendError(ex, 'ValidationException', "1 validation error detected: Value null at 'input.invokeModel.body' failed to satisfy constraint: Member must not be null");
      }
      try {
        invoke = JSON.parse(Buffer.from(inner, 'base64').toString('utf8'));
      } catch {
        invoke = undefined;
      }
    }
    const invalid = invokeBodyError(invoke);
    if (invalid) return this.#sendError(ex, 'ValidationException', invalid);
    return this.#play(ex, this.nextScript(), route, invoke);
  }

  async #authenticate(ex: Exchange): Promise<(AuthFailure & { field?: string }) | undefined> {
    const { rec } = ex;
    if (rec.auth === 'none') {
      return this.#opts.allowUnsigned ? undefined : { type: 'MissingAuthenticationTokenException', message: 'Missing Authentication Token' };
    }
    if (rec.auth === 'bearer') {
      const key = /^Bearer\s+(.+)$/i.exec(firstHeader(rec.headers, 'authorization') ?? '')?.[1]?.trim();
      if (key !== undefined && (this.#opts.apiKeys ?? []).includes(key)) return undefined;
      // Wording and the capitalised `Message` key as reported for a rejected Bedrock API key.
      return { type: 'AccessDeniedException', message: 'Authentication failed: Please make sure your API Key is valid.', field: 'Message' };
    }
    return verifySigV4(rec, this.region, this.#credentials);
  }

  /** Every answer carries a request id and a date, as Bedrock's do. */
  protected override responseHeaders(ex: Exchange, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
    return { 'x-amzn-RequestId': ex.requestId, date: new Date().toUTCString(), ...extra };
  }

  #sendError(ex: Exchange, type: string, message?: string, status?: number, extra: Record<string, string> = {}, field = 'message'): void {
    this.sendBody(ex, status ?? statusForError(type), JSON_TYPE, { [field]: message ?? errorMessageFor(type) },
      { 'x-amzn-ErrorType': errorTypeHeader(type), ...extra });
  }

  async #play(ex: Exchange, script: BedrockScript | undefined, route: Route, invoke: unknown): Promise<void> {
    const s: BedrockScript = script ?? { kind: 'message' };
    switch (s.kind) {
      case 'delay':
        await pause(s.ms, ex.res);
        if (ex.res.destroyed) return;
        return this.#play(ex, s.then, route, invoke);
      case 'status':
        return this.#sendError(ex, s.errorType, s.message, s.status, s.headers);
      case 'exception':
        if (route !== 'stream') return this.#sendError(ex, typeForMember(s.exceptionType), s.message);
        break;
      case 'reset':
        if (s.afterEvents === undefined) return this.destroy(ex);
        break;
      case 'silence':
        if (route !== 'stream') await pause(s.ms, ex.res);
        if (ex.res.destroyed) return;
        break;
      case 'message':
      case 'stall':
        break;
    }
    if (route === 'count') return this.answerPlain(ex, s.kind, { inputTokens: estimateInputTokens(invoke) });
    const modelId = ex.rec.modelId;
    const content = s.kind === 'message' && s.content ? s.content : defaultContent(invoke);
    const built = buildMessage(invoke, content, { ...(s.kind === 'message' ? s : {}), model: modelNameFor(modelId) });
    const msg: MessageBody = { ...built, id: randomId('msg_bdrk_') };
    if (route === 'stream') return this.#stream(ex, s, msg);
    const u = msg.usage;
    return this.answerPlain(ex, s.kind, msg, {
      'x-amzn-bedrock-input-token-count': String(u.input_tokens),
      'x-amzn-bedrock-output-token-count': String(u.output_tokens),
      'x-amzn-bedrock-cache-read-input-token-count': String(u.cache_read_input_tokens),
      'x-amzn-bedrock-cache-write-input-token-count': String(u.cache_creation_input_tokens),
      'x-amzn-bedrock-invocation-latency': String(Math.round(performance.now() - ex.started)),
    });
  }

  async #stream(ex: Exchange, s: BedrockScript, msg: MessageBody): Promise<void> {
    // Bedrock sends no pings: a gateway facing SSE clients must synthesize its own keep-alives.
    const events = streamEvents(msg).filter((e) => e.event !== 'ping').map((e) => e.data);
    const limit = Math.min(events.length, s.kind === 'stall' || s.kind === 'reset' || s.kind === 'exception' ? s.afterEvents ?? 0 : events.length);
    const silenceAt = s.kind === 'silence' ? s.afterEvents : -1;
    ex.res.writeHead(200, this.responseHeaders(ex, { 'content-type': EVENTSTREAM_TYPE, 'x-amzn-bedrock-content-type': JSON_TYPE }));
    ex.res.flushHeaders();
    let held: Buffer | undefined;
    let firstByte: number | undefined;
    for (let i = 0; i < limit; i++) {
      if (i === silenceAt) {
        if (held && !(await this.write(ex, held))) return;
        held = undefined;
        await pause(s.kind === 'silence' ? s.ms : 0, ex.res);
      } else if (i > 0 && this.#opts.eventDelayMs) {
        await pause(this.#opts.eventDelayMs, ex.res);
      }
      if (ex.res.destroyed) return;
      firstByte ??= Math.round(performance.now() - ex.started);
      const event = events[i];
      const data = isRecord(event) && event.type === 'message_stop'
        ? { ...event, 'amazon-bedrock-invocationMetrics': {
          inputTokenCount: msg.usage.input_tokens, outputTokenCount: msg.usage.output_tokens,
          invocationLatency: Math.round(performance.now() - ex.started), firstByteLatency: firstByte,
        } }
        : event;
      const frame = chunkFrame(data);
      const buf = held ? Buffer.concat([held, frame]) : frame;
      held = undefined;
      const plan = framing(i);
      if (plan.kind === 'joined' && i < limit - 1 && i + 1 !== silenceAt) {
        held = buf;
        continue;
      }
      if (plan.kind === 'split') {
        const at = buf.length - frame.length + plan.at(frame.length);
        if (!(await this.write(ex, buf.subarray(0, at)))) return;
        await pause(SPLIT_GAP_MS, ex.res);
        if (!(await this.write(ex, buf.subarray(at)))) return;
      } else if (!(await this.write(ex, buf))) {
        return;
      }
    }
    if (await this.cutStream(ex, s.kind)) return;
    if (s.kind === 'exception' && !(await this.write(ex, exceptionFrame(s.exceptionType, s.message)))) return;
    ex.res.end();
  }
}
