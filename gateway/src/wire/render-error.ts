import { StoreUnavailableError } from '../store/unavailable.js';
import { GatewayError, errors } from './errors.js';

/**
 * The only place gateway errors become bytes: Anthropic's JSON envelope before the first byte of
 * a response, an SSE `event: error` frame after it (the SDKs throw on that event).
 */

export interface RenderedError {
  status: number;
  headers: Record<string, string>;
  body: string;
}

interface Envelope {
  type: 'error';
  error: { type: string; message: string; details: { error_code: string } };
  request_id: string;
}

function envelope(err: GatewayError, requestId: string): Envelope {
  return { type: 'error', error: { type: err.type, message: err.message, details: { error_code: err.code } }, request_id: requestId };
}

export function renderError(err: GatewayError, requestId: string): RenderedError {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'request-id': requestId,
    ...err.headers,
  };
  if (err.retryable !== undefined) headers['x-should-retry'] = String(err.retryable);
  return { status: err.status, headers, body: JSON.stringify(envelope(err, requestId)) };
}

export function renderSseError(err: GatewayError, requestId: string): string {
  return `event: error\ndata: ${JSON.stringify(envelope(err, requestId))}\n\n`;
}

interface FastifyLikeError {
  code?: string;
  statusCode?: number;
  message?: string;
}

const isFastifyLike = (e: unknown): e is FastifyLikeError => typeof e === 'object' && e !== null && 'code' in e;

/** Foreign errors are translated here, at the boundary, keeping the original as `cause`. */
export function toGatewayError(e: unknown, bodyLimitMb: number): GatewayError {
  if (e instanceof GatewayError) return e;
  // The database went away under a route that needs it (admin API, budgets): a retryable 503.
  if (e instanceof StoreUnavailableError) return errors.storeUnavailable(e.endpoint ?? 'its configured address', 'answer this request', e);
  if (isFastifyLike(e)) {
    switch (e.code) {
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return errors.bodyTooLarge(bodyLimitMb);
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return errors.unsupportedContentType(String(e.message).replace(/^Unsupported Media Type:?\s*/, '') || 'unknown');
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return errors.malformedJson('the body is empty');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return errors.invalidParam('The Content-Length header does not match the body that was sent.');
    }
    if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
      return errors.invalidParam(e.message ?? 'Bad request.');
    }
  }
  return errors.internal(e);
}
