import type { IncomingHttpHeaders } from 'node:http';
import type { RequestBody } from '../wire/request-body.js';

/** What a provider adapter turns an Anthropic-shaped call into. */
export interface UpstreamRequest {
  origin: string;
  path: string;
  method: 'POST' | 'GET';
  headers: Record<string, string>;
  body?: Buffer;
}

export type Operation = 'messages' | 'count_tokens';

export interface InboundCall {
  op: Operation;
  /** End-to-end headers of the client, already stripped of credentials and hop-by-hop headers. */
  headers: Record<string, string>;
  /** The query string as received, with its `?` (e.g. Claude Code's `?beta=true`), or ''. */
  query: string;
  /** The body exactly as received, with its top-level fields at hand. */
  body: RequestBody;
}

export interface Provider {
  readonly slug: string;
  readonly kind: string;
  /** Set when the provider cannot be called; a sentence saying what the admin must do. */
  readonly unavailable: string | undefined;
  /** Model ids it serves, for `/v1/models`. */
  readonly models: readonly string[];
  readonly origin: string;
  prepare(call: InboundCall): UpstreamRequest;
}

export type HeaderBag = IncomingHttpHeaders;
