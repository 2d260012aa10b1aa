import type { IncomingHttpHeaders } from 'node:http';
import type { RequestBody } from '../wire/request-body.js';

/** The provider's raw answer, as the HTTP client got it. */
export interface UpstreamAnswer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer> & { destroy(): void };
}

/** The answer in Anthropic's wire format, ready to relay. */
export interface AdaptedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer> | Iterable<Buffer>;
  /** A stream of SSE events: a failure after the first byte becomes an `event: error`. */
  sse: boolean;
  /** Usage the provider reported outside the Anthropic events (Bedrock's invocation metrics), once the body has been read. */
  providerUsage?: () => unknown;
}

/** Turns a provider's answer into Anthropic's (Bedrock's event stream, Google's error envelope). */
export type ResponseAdapter = (answer: UpstreamAnswer) => Promise<AdaptedAnswer>;

/** What a provider adapter turns an Anthropic-shaped call into. */
export interface UpstreamRequest {
  origin: string;
  path: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: Buffer;
  /** Absent for providers that speak Anthropic's wire format already. */
  adapt?: ResponseAdapter;
  /** Betas and fields left out because the upstream rejects them (`beta:x`, `field:y`). */
  dropped?: string[];
}

export type Operation = 'messages' | 'count_tokens';

export interface InboundCall {
  op: Operation;
  /** The gateway's id for this request, for error envelopes the adapters build. */
  requestId: string;
  /** End-to-end headers of the client, already stripped of credentials and hop-by-hop headers. */
  headers: Record<string, string>;
  /** The query string as received, with its `?` (e.g. Claude Code's `?beta=true`), or ''. */
  query: string;
  /** The body exactly as received, with its top-level fields at hand. */
  body: RequestBody;
}

export interface Provider {
  readonly slug: string;
  readonly kind: 'anthropic' | 'bedrock' | 'vertex';
  /** Set when the provider cannot be called; a sentence saying what the admin must do. */
  readonly unavailable: string | undefined;
  /** Anthropic model ids it serves, for `/v1/models`. */
  readonly models: readonly string[];
  /** Where it sends requests, for messages and the start-up banner. */
  readonly origin: string;
  /** How it authenticates, for the start-up banner (never a secret). */
  readonly credentials: string;
  prepare(call: InboundCall): Promise<UpstreamRequest>;
}

/** Reads a (small, error) body whole. */
export async function readAll(body: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c);
  return Buffer.concat(chunks);
}
