// A loopback stand-in for Bedrock Runtime (protocols.md B1–B5), faithful enough that the official AWS
// and Anthropic Bedrock clients accept it, SigV4 included, with scripts to make it fail the ways Bedrock does.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import {
  buildMessage, defaultContent, estimateInputTokens, isRecord, randomId, streamEvents,
  type ContentBlockSpec, type MessageBody, type Usage,
} from './anthropic-sse.js';
import {
  chunkFrame, errorMessageFor, errorTypeHeader, EVENTSTREAM_TYPE, exceptionFrame, framing, invokeBodyError, modelNameFor,
  routeOf, statusForError, typeForMember, verifySigV4, type AuthFailure, type AwsCredential, type Route,
} from './bedrock-frames.js';

export type { ContentBlockSpec, Usage } from './anthropic-sse.js';
export type { AwsCredential } from './bedrock-frames.js';

export interface BedrockRecorded {
  method: string;
  url: string;
  /** Without the query, exactly as sent (the model id still percent-encoded if it was). */
  path: string;
  /** Decoded model id (`…-v1:0` whether it came raw or as `%3A`); '' for routes without one. */
  modelId: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  json: unknown;
  /** The credential the request presented, valid or not. */
  auth: 'sigv4' | 'bearer' | 'none';
  /** The client closed the connection before the response finished (never set by a `reset` script). */
  aborted: boolean;
  /** Exactly the body bytes written so far; grows while a stream is in flight. */
  responseBytes: Buffer;
  /** Settles when the response finished or the connection closed. */
  done: Promise<void>;
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

interface Exchange {
  res: ServerResponse;
  rec: BedrockRecorded;
  requestId: string;
  started: number;
  /** The InvokeModel body the answer is built from: the request itself, or count-tokens' embedded copy. */
  invoke: unknown;
  /** Set before the emulator destroys the socket itself, so that is not mistaken for a client abort. */
  selfReset: boolean;
}

const noop = (): void => undefined;
const JSON_TYPE = 'application/json';
const RESET_GRACE_MS = 25;
// Long enough that the two halves of a split frame reach the client as separate reads.
const SPLIT_GAP_MS = 3;

function firstHeader(h: IncomingHttpHeaders, name: string): string | undefined {
  const v = h[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Resolves after `ms` or as soon as the response closes, so a departed client never leaves a timer behind. */
function pause(ms: number, res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    res.once('close', done);
    function done(): void {
      clearTimeout(timer);
      res.off('close', done);
      resolve();
    }
  });
}

/**
 * Bedrock Runtime on 127.0.0.1 over HTTP/1.1 (so the AWS SDK needs `NodeHttpHandler`). Scripts
 * queued with `enqueue` answer invoke, invoke-with-response-stream and count-tokens in order; with
 * none queued the reply is the Anthropic emulator's default (`defaultContent`). Auth and Bedrock's
 * body rules are checked before a script is taken, as the real front door rejects those first.
 */
export class BedrockEmulator {
  /** A fresh object each time: the AWS SDK writes bookkeeping onto the credentials it is given. */
  static get DEFAULT_CREDENTIALS(): { accessKeyId: string; secretAccessKey: string } {
    return { accessKeyId: 'AKIAEMULATOR00000001', secretAccessKey: 'emulatorSecretKey/0000000000/EXAMPLEKEY00' };
  }

  readonly url: string;
  readonly region: string;
  readonly requests: BedrockRecorded[] = [];
  readonly #server: Server;
  readonly #opts: BedrockEmulatorOptions;
  readonly #credentials: readonly AwsCredential[];
  readonly #queue: BedrockScript[] = [];
  readonly #sockets = new Set<Socket>();
  readonly #waiters = new Set<() => void>();

  private constructor(server: Server, opts: BedrockEmulatorOptions) {
    this.#server = server;
    this.#opts = opts;
    this.region = opts.region ?? 'us-east-1';
    this.#credentials = opts.credentials ?? [BedrockEmulator.DEFAULT_CREDENTIALS];
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('connection', (s: Socket) => {
      s.on('error', noop);
      this.#sockets.add(s);
      s.once('close', () => this.#sockets.delete(s));
    });
    server.on('request', (req: IncomingMessage, res: ServerResponse) => void this.#handle(req, res));
  }

  static async start(opts: BedrockEmulatorOptions = {}): Promise<BedrockEmulator> {
    const server = createServer();
    server.on('clientError', (_err, socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    return new BedrockEmulator(server, opts);
  }

  enqueue(...scripts: BedrockScript[]): void {
    this.#queue.push(...scripts);
  }

  reset(): void {
    this.#queue.length = 0;
    this.requests.length = 0;
  }

  async waitForRequests(n: number, timeoutMs = 5000): Promise<void> {
    if (this.requests.length >= n) return;
    await new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (this.requests.length < n) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`BedrockEmulator: waited ${timeoutMs} ms for ${n} requests, saw ${this.requests.length}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    req.on('error', noop);
    res.on('error', noop);
    const started = performance.now();
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      return; // The client left mid-upload; there is nobody to answer.
    }
    const body = Buffer.concat(chunks);
    let json: unknown;
    try {
      json = body.length > 0 ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      json = undefined;
    }
    const rawUrl = req.url ?? '/';
    const path = rawUrl.split('?')[0] ?? '/';
    const method = req.method ?? 'GET';
    const found = routeOf(method, path);
    const authorization = firstHeader(req.headers, 'authorization');
    let settle = noop;
    const rec: BedrockRecorded = {
      method, url: rawUrl, path, modelId: found?.modelId ?? '', headers: req.headers, body, json,
      auth: authorization === undefined ? 'none' : /^Bearer /i.test(authorization) ? 'bearer' : 'sigv4',
      aborted: false, responseBytes: Buffer.alloc(0), done: new Promise<void>((resolve) => { settle = resolve; }),
    };
    const ex: Exchange = { res, rec, requestId: randomUUID(), started, invoke: json, selfReset: false };
    const onClose = (): void => {
      if (!res.writableFinished && !ex.selfReset) rec.aborted = true;
      settle();
    };
    if (req.socket.destroyed) onClose();
    else res.once('close', onClose);
    this.requests.push(rec);
    for (const w of [...this.#waiters]) w();
    try {
      if (!found) return this.#sendError(ex, 'UnknownOperationException', `Unknown operation: ${method} ${path}`);
      await this.#route(ex, found.route);
    } catch {
      if (!res.headersSent) this.#sendError(ex, 'InternalServerException');
      else this.#destroy(ex);
    }
  }

  async #route(ex: Exchange, route: Route): Promise<void> {
    const denied = await this.#authenticate(ex);
    if (denied) return this.#sendError(ex, denied.type, denied.message, undefined, undefined, denied.field);
    if (route === 'profiles') return this.#sendJson(ex, 200, { inferenceProfileSummaries: [] });
    if (route === 'profile') return this.#sendError(ex, 'ResourceNotFoundException', 'The specified inference profile was not found.');
    if (route === 'count') {
      const inner = isRecord(ex.rec.json) && isRecord(ex.rec.json.input) && isRecord(ex.rec.json.input.invokeModel)
        ? ex.rec.json.input.invokeModel.body : undefined;
      if (typeof inner !== 'string') {
        return this.#sendError(ex, 'ValidationException', "1 validation error detected: Value null at 'input.invokeModel.body' failed to satisfy constraint: Member must not be null");
      }
      try {
        ex.invoke = JSON.parse(Buffer.from(inner, 'base64').toString('utf8'));
      } catch {
        ex.invoke = undefined;
      }
    }
    const invalid = invokeBodyError(ex.invoke);
    if (invalid) return this.#sendError(ex, 'ValidationException', invalid);
    return this.#play(ex, this.#queue.shift(), route);
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

  #baseHeaders(ex: Exchange, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
    return { 'x-amzn-RequestId': ex.requestId, date: new Date().toUTCString(), ...extra };
  }

  #sendJson(ex: Exchange, status: number, payload: unknown, extra: OutgoingHttpHeaders = {}): void {
    const buf = Buffer.from(JSON.stringify(payload), 'utf8');
    ex.res.writeHead(status, this.#baseHeaders(ex, { 'content-type': JSON_TYPE, 'content-length': buf.length, ...extra }));
    ex.rec.responseBytes = buf;
    ex.res.end(buf);
  }

  #sendError(ex: Exchange, type: string, message?: string, status?: number, extra: Record<string, string> = {}, field = 'message'): void {
    this.#sendJson(ex, status ?? statusForError(type), { [field]: message ?? errorMessageFor(type) },
      { 'x-amzn-ErrorType': errorTypeHeader(type), ...extra });
  }

  async #write(ex: Exchange, buf: Buffer): Promise<boolean> {
    const { res } = ex;
    if (res.destroyed) return false;
    ex.rec.responseBytes = Buffer.concat([ex.rec.responseBytes, buf]);
    if (!res.write(buf)) {
      await new Promise<void>((resolve) => {
        const go = (): void => { res.off('drain', go); res.off('close', go); resolve(); };
        res.once('drain', go);
        res.once('close', go);
      });
    }
    return !res.destroyed;
  }

  #destroy(ex: Exchange): void {
    ex.selfReset = true;
    ex.res.destroy();
  }

  async #play(ex: Exchange, script: BedrockScript | undefined, route: Route): Promise<void> {
    const s: BedrockScript = script ?? { kind: 'message' };
    switch (s.kind) {
      case 'delay':
        await pause(s.ms, ex.res);
        if (ex.res.destroyed) return;
        return this.#play(ex, s.then, route);
      case 'status':
        return this.#sendError(ex, s.errorType, s.message, s.status, s.headers);
      case 'exception':
        if (route !== 'stream') return this.#sendError(ex, typeForMember(s.exceptionType), s.message);
        break;
      case 'reset':
        if (s.afterEvents === undefined) return this.#destroy(ex);
        break;
      case 'silence':
        if (route !== 'stream') await pause(s.ms, ex.res);
        if (ex.res.destroyed) return;
        break;
      case 'message':
      case 'stall':
        break;
    }
    if (route === 'count') return this.#answerPlain(ex, s, { inputTokens: estimateInputTokens(ex.invoke) });
    const modelId = ex.rec.modelId;
    const content = s.kind === 'message' && s.content ? s.content : defaultContent(ex.invoke);
    const built = buildMessage(ex.invoke, content, { ...(s.kind === 'message' ? s : {}), model: modelNameFor(modelId) });
    const msg: MessageBody = { ...built, id: randomId('msg_bdrk_') };
    if (route === 'stream') return this.#stream(ex, s, msg);
    const u = msg.usage;
    return this.#answerPlain(ex, s, msg, {
      'x-amzn-bedrock-input-token-count': String(u.input_tokens),
      'x-amzn-bedrock-output-token-count': String(u.output_tokens),
      'x-amzn-bedrock-cache-read-input-token-count': String(u.cache_read_input_tokens),
      'x-amzn-bedrock-cache-write-input-token-count': String(u.cache_creation_input_tokens),
      'x-amzn-bedrock-invocation-latency': String(Math.round(performance.now() - ex.started)),
    });
  }

  /** Non-streaming answer; `reset`/`stall` cut it the way a dying upstream would: mid-body or before any body. */
  #answerPlain(ex: Exchange, s: BedrockScript, payload: unknown, extra: Record<string, string> = {}): void {
    if (s.kind !== 'reset' && s.kind !== 'stall') return this.#sendJson(ex, 200, payload, extra);
    const buf = Buffer.from(JSON.stringify(payload), 'utf8');
    ex.res.writeHead(200, this.#baseHeaders(ex, { 'content-type': JSON_TYPE, 'content-length': buf.length, ...extra }));
    ex.res.flushHeaders();
    if (s.kind === 'stall') return;
    const half = buf.subarray(0, Math.floor(buf.length / 2));
    ex.rec.responseBytes = Buffer.from(half);
    ex.res.write(half, () => this.#destroy(ex));
  }

  async #stream(ex: Exchange, s: BedrockScript, msg: MessageBody): Promise<void> {
    // Bedrock sends no pings: a gateway facing SSE clients must synthesize its own keep-alives.
    const events = streamEvents(msg).filter((e) => e.event !== 'ping').map((e) => e.data);
    const limit = Math.min(events.length, s.kind === 'stall' || s.kind === 'reset' || s.kind === 'exception' ? s.afterEvents ?? 0 : events.length);
    const silenceAt = s.kind === 'silence' ? s.afterEvents : -1;
    ex.res.writeHead(200, this.#baseHeaders(ex, { 'content-type': EVENTSTREAM_TYPE, 'x-amzn-bedrock-content-type': JSON_TYPE }));
    ex.res.flushHeaders();
    let held: Buffer | undefined;
    let firstByte: number | undefined;
    for (let i = 0; i < limit; i++) {
      if (i === silenceAt) {
        if (held && !(await this.#write(ex, held))) return;
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
        if (!(await this.#write(ex, buf.subarray(0, at)))) return;
        await pause(SPLIT_GAP_MS, ex.res);
        if (!(await this.#write(ex, buf.subarray(at)))) return;
      } else if (!(await this.#write(ex, buf))) {
        return;
      }
    }
    if (s.kind === 'reset') {
      // A closed connection errors the client's body stream, and WHATWG streams drop chunks not yet read when
      // that happens; a short gap lets the frames already sent reach the consumer, as when a real upstream dies.
      await pause(RESET_GRACE_MS, ex.res);
      return this.#destroy(ex);
    }
    if (s.kind === 'stall') return; // Hold the connection open; `done` settles when the client gives up.
    if (s.kind === 'exception' && !(await this.#write(ex, exceptionFrame(s.exceptionType, s.message)))) return;
    ex.res.end();
  }
}
