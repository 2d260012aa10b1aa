import type { FastifyRequest } from 'fastify';
import type { GuardrailVerdict } from '../governance/guardrails/engine.js';
import type { Spend } from '../governance/metering.js';
import type { BodyEntry } from '../store/sqlite-bodies.js';
import type { GatewayError } from '../wire/errors.js';
import { summarize, type BodyPolicy } from './bodies.js';

/**
 * One row per request to the Anthropic surface, whatever its outcome: who sent it, what it asked
 * for, where it went, what came back, what it cost, which policies fired. The shape is an API
 * (`/api/admin/logs`, scripts depend on it): add fields, never rename them.
 */
export interface LogRow {
  id: string;
  created_at: string;
  trace_id: string | null;
  /** Claude Code's `x-claude-code-session-id`. */
  session_id: string | null;
  workspace: string | null;
  key_id: string | null;
  key_name: string | null;
  metadata: Record<string, string>;
  /** `messages`, `count_tokens`, `models`. */
  endpoint: string;
  stream: boolean;
  /** As requested. */
  model: string | null;
  /** As the provider answered (after any routing override). */
  served_model: string | null;
  /** The provider slug that answered. */
  provider: string | null;
  /** The provider's own request id (Anthropic's `request-id`, relayed to the client). */
  upstream_request_id: string | null;
  /** Routing: the config path of the target that answered, retries, cache status. */
  route_path: string | null;
  retries: number;
  cache_status: string | null;
  status: number;
  outcome: 'ok' | 'error' | 'client_gone' | 'upstream_failed' | 'budget_cut';
  error_type: string | null;
  error_code: string | null;
  error_message: string | null;
  input_tokens: number;
  output_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_input_tokens: number;
  /** False when the usage was estimated (a stream that ended early). */
  usage_final: boolean;
  /** Null when the model has no price (never counted as $0). */
  cost_usd: number | null;
  latency_ms: number;
  /** Time to the first byte of the response body. */
  ttft_ms: number | null;
  /** Guardrails that matched, with their action and where. */
  guardrails: Array<Pick<GuardrailVerdict, 'id' | 'type' | 'action' | 'findings'>>;
  user_agent: string | null;
  /** The client's W3C `traceparent` header, when it sent a well-formed one (trace export continues its trace). */
  traceparent?: string;
}

// version-traceid-parentid-flags in lower-case hex (W3C Trace Context §3.2); nothing longer is kept.
const TRACEPARENT = /^[\da-f]{2}-[\da-f]{32}-[\da-f]{16}-[\da-f]{2}$/;

export type RequestStart = Pick<LogRow, 'id' | 'created_at' | 'workspace' | 'key_id' | 'metadata' | 'endpoint' | 'stream' | 'model'>;

/** Filled in by the stages a request passes; turned into a row once, when it ends. */
export class RequestRecord {
  readonly startedAt = Date.now();
  readonly startedHr = process.hrtime.bigint();
  stream = false;
  model: string | null = null;
  metadata: Record<string, string> = {};
  provider: string | null = null;
  upstreamRequestId: string | null = null;
  routePath: string | null = null;
  retries = 0;
  cacheStatus: string | null = null;
  spend: Spend | undefined;
  firstByteMs: number | null = null;
  verdicts: GuardrailVerdict[] = [];
  error: GatewayError | undefined;
  outcome: LogRow['outcome'] | undefined;
  /** What the log keeps of bodies (the workspace's policy), and what it has seen of them. */
  bodyPolicy: BodyPolicy = 'none';
  /** The request as forwarded (after any redaction): a denied request's body is never kept. */
  forwardedBody: Buffer | undefined;
  readonly #response: Buffer[] = [];
  #responseBytes = 0;
  #done = false;

  constructor(readonly endpoint: string) {}

  elapsedMs(): number {
    return Number(process.hrtime.bigint() - this.startedHr) / 1e6;
  }

  firstByte(): void {
    this.firstByteMs ??= this.elapsedMs();
  }

  /** Sees the response's bytes as they are relayed (kept only under the "full" policy). */
  responseChunk(chunk: Buffer): void {
    this.#responseBytes += chunk.length;
    if (this.bodyPolicy === 'full') this.#response.push(chunk);
  }

  #bodies(id: string, createdAt: string, payload: unknown): BodyEntry | undefined {
    if (this.bodyPolicy === 'none' || !this.forwardedBody) return undefined;
    if (typeof payload === 'string' || Buffer.isBuffer(payload)) this.responseChunk(Buffer.from(payload));
    const summary = summarize(this.forwardedBody, this.#responseBytes);
    const full = this.bodyPolicy === 'full' ? { request: this.forwardedBody, response: Buffer.concat(this.#response) } : undefined;
    return { log_id: id, created_at: createdAt, summary, full };
  }

  /** What is known when a request starts, for live listeners (`request.start` events). */
  started(req: FastifyRequest): RequestStart {
    const key = req.gatehouseKey;
    return { id: req.id, created_at: new Date(this.startedAt).toISOString(), workspace: key?.workspace ?? null, key_id: key?.id ?? null, metadata: this.metadata, endpoint: this.endpoint, stream: this.stream, model: this.model };
  }

  /**
   * The row (and what is kept of the bodies), the first time it is asked for; undefined after
   * (a request is logged once). `payload`: a response fastify sends itself.
   */
  finish(req: FastifyRequest, status: number, payload?: unknown): { row: LogRow; bodies?: BodyEntry } | undefined {
    if (this.#done) return undefined;
    this.#done = true;
    const row = this.#row(req, status);
    return { row, bodies: this.#bodies(row.id, row.created_at, payload) };
  }

  #row(req: FastifyRequest, status: number): LogRow {
    const h = req.headers;
    const one = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) || null;
    const key = req.gatehouseKey;
    const usage = this.spend?.usage;
    const error = this.error;
    const traceparent = one(h.traceparent);
    return {
      id: req.id,
      created_at: new Date(this.startedAt).toISOString(),
      trace_id: one(h['x-portkey-trace-id']) ?? req.id,
      session_id: one(h['x-claude-code-session-id']),
      workspace: key?.workspace ?? null,
      key_id: key?.id ?? null,
      key_name: key?.name ?? null,
      metadata: this.metadata,
      endpoint: this.endpoint,
      stream: this.stream,
      model: this.model,
      served_model: this.spend?.model ?? null,
      provider: this.provider,
      upstream_request_id: this.upstreamRequestId,
      route_path: this.routePath,
      retries: this.retries,
      cache_status: this.cacheStatus,
      status,
      outcome: this.outcome ?? (status < 400 ? 'ok' : 'error'),
      error_type: error?.type ?? null,
      error_code: error?.code ?? null,
      error_message: error?.message ?? null,
      input_tokens: usage?.input_tokens ?? 0,
      output_tokens: usage?.output_tokens ?? 0,
      cache_read_input_tokens: usage?.cache_read_input_tokens ?? 0,
      cache_creation_input_tokens: usage?.cache_creation_input_tokens ?? 0,
      usage_final: this.spend?.final ?? true,
      cost_usd: this.spend ? this.spend.cost.usd : 0,
      latency_ms: Math.round(this.elapsedMs() * 1000) / 1000,
      ttft_ms: this.firstByteMs === null ? null : Math.round(this.firstByteMs * 1000) / 1000,
      guardrails: this.verdicts.filter((v) => v.matched).map(({ id, type, action, findings }) => ({ id, type, action, findings })),
      user_agent: one(h['user-agent']),
      ...(traceparent !== null && TRACEPARENT.test(traceparent) ? { traceparent } : {}),
    };
  }
}
