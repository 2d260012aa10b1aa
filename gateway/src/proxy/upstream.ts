import { Agent, type Dispatcher } from 'undici';
import { errors, type GatewayError } from '../wire/errors.js';

export interface Timeouts {
  connect_ms: number;
  first_byte_ms: number;
  idle_ms: number;
}

/** One shared keep-alive pool for every provider call. */
export function createAgent(t: Timeouts): Agent {
  return new Agent({
    connect: { timeout: t.connect_ms },
    headersTimeout: t.first_byte_ms,
    bodyTimeout: t.idle_ms,
    keepAliveTimeout: 30_000,
    keepAliveMaxTimeout: 600_000,
    connections: 256,
    pipelining: 1,
  });
}

const NET_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'DNS lookup failed',
  ECONNRESET: 'connection reset by the provider',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  EPIPE: 'connection closed while sending',
  UND_ERR_SOCKET: 'connection closed by the provider',
  UND_ERR_CLOSED: 'connection closed',
  CERT_HAS_EXPIRED: 'TLS certificate expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'TLS certificate is self-signed',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'TLS certificate could not be verified',
};

function codeOf(e: unknown): string | undefined {
  let cur: unknown = e;
  for (let i = 0; i < 4 && typeof cur === 'object' && cur !== null; i++) {
    const code = (cur as { code?: unknown }).code;
    if (typeof code === 'string' && code !== 'UND_ERR') return code;
    cur = (cur as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Translates a transport failure into the catalog, naming the provider and the reason. */
export function classifyUpstreamError(e: unknown, slug: string, origin: string, t: Timeouts, afterHeaders: boolean): GatewayError {
  const code = codeOf(e);
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return errors.upstreamTimeout(slug, `no connection to ${origin} within ${t.connect_ms / 1000} s (server.timeouts.connect_ms)`, e);
    case 'UND_ERR_HEADERS_TIMEOUT':
      return errors.upstreamTimeout(slug, `no response within ${t.first_byte_ms / 1000} s (server.timeouts.first_byte_ms)`, e);
    case 'UND_ERR_BODY_TIMEOUT':
      return errors.upstreamTimeout(slug, `the response went silent for ${t.idle_ms / 1000} s (server.timeouts.idle_ms)`, e);
  }
  const reason = `${(code && NET_REASONS[code]) ?? 'network error'}${code ? ` (${code})` : ''}`;
  return afterHeaders ? errors.upstreamStreamFailed(slug, reason, e) : errors.upstreamUnreachable(slug, origin, reason, e);
}

export type { Dispatcher };
