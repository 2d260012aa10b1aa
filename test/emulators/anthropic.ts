// A loopback stand-in for api.anthropic.com, faithful enough that the real SDKs accept it
// (protocols.md A1–A8), with scripts to make it misbehave the ways the real API does.
import type { IncomingMessage, OutgoingHttpHeaders, Server } from 'node:http';
import {
  buildMessage, defaultContent, errorEnvelope, errorTypeFor, estimateInputTokens, frame, isRecord, randomId,
  statusForErrorType, streamEvents, type ContentBlockSpec, type SseEvent, type Usage,
} from './anthropic-sse.js';
import { firstHeader, listenLoopback, LoopbackEmulator, pause, type Exchange as BaseExchange, type RecordedBase } from './loopback-server.js';

export type { ContentBlockSpec, SseEvent, Usage } from './anthropic-sse.js';

export interface RecordedRequest extends RecordedBase {
  /** Without the query, so CC's `?beta=true` does not get in the way of matching. */
  path: string;
  rawHeaders: string[];
}

export type Script =
  | { kind: 'message'; content?: ContentBlockSpec[]; stopReason?: string; usage?: Partial<Usage>; model?: string; headers?: Record<string, string> }
  /** `body`: an object is sent as JSON, a string verbatim; omitted means Anthropic's error envelope for the status. */
  | { kind: 'status'; status: number; body?: unknown; headers?: Record<string, string> }
  | { kind: 'sse'; events: Array<SseEvent | { delayMs: number } | { raw: string }>; headers?: Record<string, string> }
  | { kind: 'reset'; afterEvents?: number }
  | { kind: 'stall'; afterEvents: number }
  | { kind: 'errorAfter'; afterEvents: number; error: { type: string; message: string } }
  | { kind: 'delay'; ms: number; then: Script };

export interface EmulatorOptions {
  apiKey?: string;
  eventDelayMs?: number;
  pingEvery?: number;
}

type Exchange = BaseExchange<RecordedRequest>;
type Route = 'messages' | 'count';

const SSE_HEADERS = { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' };
const JSON_TYPE = 'application/json';

// --- GET /v1/models catalogue (A8 + SDK 1.12 ModelInfo), newest first -------------------------
const sup = (supported: boolean): { supported: boolean } => ({ supported });
type ModelInfo = Record<string, unknown> & { id: string };
function modelInfo(id: string, display_name: string, created_at: string, line: string, max_tokens: number): ModelInfo {
  const effort = { supported: true, low: sup(true), medium: sup(true), high: sup(true), xhigh: sup(true), max: sup(true) };
  return {
    type: 'model', id, display_name, created_at, line, lifecycle: 'active', deprecated_at: null, retires_at: null,
    max_input_tokens: 1_000_000, max_tokens,
    capabilities: {
      batch: sup(true), citations: sup(true), code_execution: sup(true), image_input: sup(true), pdf_input: sup(true),
      structured_outputs: sup(true), effort,
      context_management: { supported: true, clear_thinking_20251015: sup(true), clear_tool_uses_20250919: sup(true), compact_20260112: sup(true) },
      server_tools: { supported: true, code_execution: sup(true), web_search: sup(true) },
      thinking: { supported: true, types: { adaptive: sup(true), enabled: sup(true), disabled: sup(true), between_tools: sup(true) } },
    },
  };
}
export const EMULATOR_MODELS: readonly ModelInfo[] = [
  modelInfo('claude-haiku-5-5', 'Claude Haiku 5.5', '2026-11-04T00:00:00Z', 'haiku', 64_000),
  modelInfo('claude-sonnet-5-5', 'Claude Sonnet 5.5', '2026-10-07T00:00:00Z', 'sonnet', 128_000),
  modelInfo('claude-fable-5-1', 'Claude Fable 5.1', '2026-09-15T00:00:00Z', 'fable', 128_000),
  modelInfo('claude-opus-5-5', 'Claude Opus 5.5', '2026-09-02T00:00:00Z', 'opus', 128_000),
  modelInfo('claude-opus-5', 'Claude Opus 5', '2026-07-24T00:00:00Z', 'opus', 128_000),
];

/**
 * Anthropic Messages API upstream on 127.0.0.1. Scripts queued with `enqueue` answer
 * `/v1/messages` and `/v1/messages/count_tokens` in order; with none queued the reply is:
 * `tool result: <text>` after a tool_result, a tool_use for `EMU_TOOL <Name> <json>`, else a
 * fixed greeting, preceded by a signed thinking block when the request enables thinking.
 * Auth, `anthropic-version` and JSON validity are checked before a script is taken, as the
 * real API's front door rejects those before any model work.
 */
export class AnthropicEmulator extends LoopbackEmulator<RecordedRequest, Script> {
  readonly apiKey: string;
  readonly #opts: EmulatorOptions;

  private constructor(server: Server, opts: EmulatorOptions) {
    super(server, { name: 'AnthropicEmulator', jsonType: JSON_TYPE, requestId: () => randomId('req_emu_') });
    this.#opts = opts;
    this.apiKey = opts.apiKey ?? 'sk-ant-emulator-key';
  }

  static async start(opts: EmulatorOptions = {}): Promise<AnthropicEmulator> {
    return new AnthropicEmulator(await listenLoopback(), opts);
  }

  protected override record(base: RecordedBase, req: IncomingMessage): RecordedRequest {
    return { ...base, rawHeaders: req.rawHeaders };
  }

  protected override serve(ex: Exchange): Promise<void> {
    return this.#route(ex);
  }

  protected override internalError(ex: Exchange): void {
    this.#sendError(ex, 500, 'api_error');
  }

  /** Every answer carries a request id and rate-limit headers, as the real API's do. */
  protected override responseHeaders(ex: Exchange, extra: OutgoingHttpHeaders = {}): OutgoingHttpHeaders {
    const reset = new Date(Math.ceil(Date.now() / 60_000) * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return {
      'request-id': ex.requestId,
      'anthropic-ratelimit-requests-limit': '4000',
      'anthropic-ratelimit-requests-remaining': String(Math.max(0, 4000 - this.requests.length)),
      'anthropic-ratelimit-requests-reset': reset,
      ...extra,
    };
  }

  #sendError(ex: Exchange, status: number, type: string, message?: string): void {
    this.sendBody(ex, status, JSON_TYPE, errorEnvelope(type, ex.requestId, message));
  }

  async #route(ex: Exchange): Promise<void> {
    const { rec } = ex;
    const { method, path } = rec;
    if (method === 'HEAD' && (path === '/' || path === '/api/hello')) {
      ex.res.writeHead(200, this.responseHeaders(ex));
      ex.res.end();
      return;
    }
    const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(path);
    const route = method === 'POST' && path === '/v1/messages' ? 'messages'
      : method === 'POST' && path === '/v1/messages/count_tokens' ? 'count'
      : method === 'GET' && path === '/v1/models' ? 'models'
      : method === 'GET' && modelMatch ? 'model' : undefined;
    if (!route) return this.#sendError(ex, 404, 'not_found_error', `Not found: ${method} ${path}`);

    // The API prefers x-api-key when both credentials are present (protocols.md §0).
    const apiKey = firstHeader(rec.headers, 'x-api-key');
    const bearer = /^Bearer (.+)$/.exec(firstHeader(rec.headers, 'authorization') ?? '')?.[1];
    if (apiKey === undefined && bearer === undefined) return this.#sendError(ex, 401, 'authentication_error', 'x-api-key header is required');
    if ((apiKey ?? bearer) !== this.apiKey) return this.#sendError(ex, 401, 'authentication_error', 'invalid x-api-key');
    if (!firstHeader(rec.headers, 'anthropic-version')) {
      return this.#sendError(ex, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }

    if (route === 'models') return this.#listModels(ex);
    if (route === 'model') {
      const id = decodeURIComponent(modelMatch?.[1] ?? '');
      const model = EMULATOR_MODELS.find((m) => m.id === id);
      return model ? this.sendBody(ex, 200, JSON_TYPE, model) : this.#sendError(ex, 404, 'not_found_error', `model: ${id}`);
    }
    if (!isRecord(rec.json)) {
      return this.#sendError(ex, 400, 'invalid_request_error', 'The request body is not valid JSON.');
    }
    return this.#play(ex, this.nextScript(), route);
  }

  #listModels(ex: Exchange): void {
    const q = new URL(ex.rec.url, 'http://emulator').searchParams;
    const limit = Number(q.get('limit') ?? '20');
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      return this.#sendError(ex, 400, 'invalid_request_error', 'limit: Input should be between 1 and 1000');
    }
    const cursor = q.get('before_id') ?? q.get('after_id');
    const at = cursor === null ? -1 : EMULATOR_MODELS.findIndex((m) => m.id === cursor);
    if (cursor !== null && at < 0) return this.#sendError(ex, 400, 'invalid_request_error', `Invalid cursor: ${cursor}`);
    let start: number;
    let end: number;
    let hasMore: boolean;
    if (q.has('before_id')) {
      end = at;
      start = Math.max(0, end - limit);
      hasMore = start > 0;
    } else {
      start = at + 1;
      end = Math.min(EMULATOR_MODELS.length, start + limit);
      hasMore = end < EMULATOR_MODELS.length;
    }
    const data = EMULATOR_MODELS.slice(start, end);
    this.sendBody(ex, 200, JSON_TYPE, {
      data, has_more: hasMore, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null,
    });
  }

  async #play(ex: Exchange, script: Script | undefined, route: Route): Promise<void> {
    const json = ex.rec.json;
    const streaming = route === 'messages' && isRecord(json) && json.stream === true;
    const s: Script = script ?? { kind: 'message' };
    switch (s.kind) {
      case 'delay':
        await pause(s.ms, ex.res);
        if (ex.res.destroyed) return;
        return this.#play(ex, s.then, route);
      case 'status': {
        const type = errorTypeFor(s.status);
        const isText = typeof s.body === 'string';
        const payload = s.body === undefined ? errorEnvelope(type, ex.requestId) : s.body;
        return this.sendBody(ex, s.status, isText ? 'text/plain; charset=utf-8' : JSON_TYPE, payload, s.headers);
      }
      case 'sse':
        ex.res.writeHead(200, this.responseHeaders(ex, { ...SSE_HEADERS, ...s.headers }));
        ex.res.flushHeaders();
        for (const item of s.events) {
          if ('delayMs' in item) await pause(item.delayMs, ex.res);
          else if (!(await this.write(ex, 'raw' in item ? item.raw : frame(item.event, item.data)))) return;
        }
        ex.res.end();
        return;
      case 'reset':
        if (s.afterEvents === undefined) return this.destroy(ex);
        break;
      case 'errorAfter':
        if (!streaming) return this.#sendError(ex, statusForErrorType(s.error.type), s.error.type, s.error.message);
        break;
      case 'message':
        if (route === 'count') return this.sendBody(ex, 200, JSON_TYPE, { input_tokens: estimateInputTokens(json) });
        break;
      case 'stall':
        break;
    }

    const msg = buildMessage(json, s.kind === 'message' && s.content ? s.content : defaultContent(json), s.kind === 'message' ? s : {});
    const extra = s.kind === 'message' ? s.headers : undefined;
    if (!streaming) return this.answerPlain(ex, s.kind, route === 'count' ? { input_tokens: estimateInputTokens(json) } : msg, extra);

    const events = streamEvents(msg, this.#opts.pingEvery);
    const limit = s.kind === 'message' ? events.length : s.afterEvents ?? 0;
    ex.res.writeHead(200, this.responseHeaders(ex, { ...SSE_HEADERS, ...extra }));
    ex.res.flushHeaders();
    for (const [i, e] of events.slice(0, limit).entries()) {
      if (i > 0 && this.#opts.eventDelayMs) await pause(this.#opts.eventDelayMs, ex.res);
      if (!(await this.write(ex, frame(e.event, e.data)))) return;
    }
    if (await this.cutStream(ex, s.kind)) return;
    if (s.kind === 'errorAfter') {
      await this.write(ex, frame('error', { type: 'error', error: s.error }));
    }
    ex.res.end();
  }
}
