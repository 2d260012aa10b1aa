import type { IncomingHttpHeaders } from 'node:http';
import { GatewayError, type AnthropicErrorType } from '../wire/errors.js';
import { renderError } from '../wire/render-error.js';
import type { AdaptedAnswer } from './types.js';

/**
 * A provider error re-expressed in Anthropic's envelope (for providers whose errors have another
 * shape). The provider's own words stay in the message, prefixed with where they came from. A
 * catalog GatewayError fits `e` as it is.
 */
export function anthropicErrorAnswer(
  requestId: string,
  upstreamHeaders: IncomingHttpHeaders,
  e: { code: string; status: number; type: AnthropicErrorType; message: string },
): AdaptedAnswer {
  // Named fields, not a spread: an Error's message is not enumerable.
  const r = renderError(new GatewayError({ code: e.code, status: e.status, type: e.type, message: e.message, retryable: e.status === 429 || e.status >= 500 }), requestId);
  const headers: IncomingHttpHeaders = { ...r.headers, 'content-length': String(Buffer.byteLength(r.body)) };
  const retryAfter = upstreamHeaders['retry-after'];
  if (retryAfter) headers['retry-after'] = retryAfter;
  return { status: r.status, headers, body: [Buffer.from(r.body)], sse: false };
}
