import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

// RFC 9110 §7.6.1: these describe one connection, not the message, and never cross a proxy.
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authenticate', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * Client headers that must not reach the provider: the Gatehouse credential (the provider gets
 * its own), the gateway's own `x-portkey-*` controls, and what the HTTP client recomputes.
 * `accept-encoding` is dropped so responses come back uncompressed and the gateway can read usage
 * from them; the bytes to the client are still the provider's bytes.
 */
const NOT_FORWARDED = new Set(['host', 'content-length', 'authorization', 'x-api-key', 'accept-encoding', 'expect', 'cookie']);

function connectionListed(h: IncomingHttpHeaders): Set<string> {
  const c = h.connection;
  return new Set((Array.isArray(c) ? c.join(',') : (c ?? '')).split(',').map((s) => s.trim().toLowerCase()).filter(Boolean));
}

/** Open list: everything not named above passes, `anthropic-*` and `x-claude-code-*` included. */
export function forwardableRequestHeaders(h: IncomingHttpHeaders): Record<string, string> {
  const listed = connectionListed(h);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || HOP_BY_HOP.has(name) || NOT_FORWARDED.has(name) || listed.has(name) || name.startsWith('x-portkey-')) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** Provider response headers for the client: all but hop-by-hop ones. */
export function relayableResponseHeaders(h: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = connectionListed(h);
  const out: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(h)) {
    if (value === undefined || HOP_BY_HOP.has(name) || listed.has(name)) continue;
    out[name] = value;
  }
  return out;
}
