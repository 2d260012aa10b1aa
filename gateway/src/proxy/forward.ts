import { once } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AdaptedAnswer, UpstreamRequest } from '../providers/types.js';
import { renderSseError } from '../wire/render-error.js';
import type { GatewayError } from '../wire/errors.js';
import { relayableResponseHeaders } from './headers.js';
import { classifyUpstreamError, type Timeouts } from './upstream.js';

/** Watches a relayed response from the side; never changes a byte. */
export interface StreamObserver {
  onResponse?(status: number, headers: OutgoingHttpHeaders): void;
  onChunk?(chunk: Buffer): void;
}

export type ForwardOutcome =
  | { kind: 'completed'; status: number }
  | { kind: 'client_gone'; status: number | undefined }
  | { kind: 'upstream_failed'; status: number; error: GatewayError };

export interface ForwardContext {
  requestId: string;
  slug: string;
  agent: Dispatcher;
  timeouts: Timeouts;
  /** Called once, just before the first byte: takes over the response, returns headers to add (CORS). */
  takeOver(): Record<string, string | number | string[] | undefined>;
  observer?: StreamObserver;
}

/**
 * Sends one request to the provider and relays the answer chunk by chunk, with backpressure.
 * Before the first byte is written a failure is thrown (the caller renders it, and may try
 * elsewhere); after it, a stream ends with an SSE `error` event. A client that goes away aborts
 * the provider request.
 */
export async function forward(up: UpstreamRequest, res: ServerResponse, ctx: ForwardContext): Promise<ForwardOutcome> {
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort();
  };
  res.on('close', onClose);
  try {
    let answer: Dispatcher.ResponseData;
    try {
      answer = await ctx.agent.request({ origin: up.origin, path: up.path, method: up.method, headers: up.headers, body: up.body, signal: ac.signal });
    } catch (e) {
      if (ac.signal.aborted) return { kind: 'client_gone', status: undefined };
      throw classifyUpstreamError(e, ctx.slug, up.origin, ctx.timeouts, false);
    }
    let adapted: AdaptedAnswer;
    try {
      adapted = up.adapt
        ? await up.adapt(answer)
        : { status: answer.statusCode, headers: answer.headers, body: answer.body, sse: String(answer.headers['content-type'] ?? '').startsWith('text/event-stream') };
    } catch (e) {
      answer.body.destroy();
      if (ac.signal.aborted) return { kind: 'client_gone', status: answer.statusCode };
      throw classifyUpstreamError(e, ctx.slug, up.origin, ctx.timeouts, false);
    }
    const { status: statusCode, body } = adapted;
    if (ac.signal.aborted) {
      answer.body.destroy();
      return { kind: 'client_gone', status: statusCode };
    }

    const headers: OutgoingHttpHeaders = { ...ctx.takeOver(), ...relayableResponseHeaders(adapted.headers) };
    headers['request-id'] ??= ctx.requestId;
    if (up.dropped?.length) headers['x-gatehouse-dropped'] = up.dropped.join(',');
    ctx.observer?.onResponse?.(statusCode, headers);
    res.writeHead(statusCode, headers);
    // Send the status line now: a client's first-byte timer should see the provider's answer start.
    res.flushHeaders();

    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        ctx.observer?.onChunk?.(chunk);
        if (!res.write(chunk)) await once(res, 'drain', { signal: ac.signal });
      }
      res.end();
      return { kind: 'completed', status: statusCode };
    } catch (e) {
      if (ac.signal.aborted || res.destroyed) {
        answer.body.destroy();
        return { kind: 'client_gone', status: statusCode };
      }
      const error = classifyUpstreamError(e, ctx.slug, up.origin, ctx.timeouts, true);
      if (adapted.sse) {
        res.end(renderSseError(error, ctx.requestId));
      } else {
        // A JSON body cut in half cannot be repaired; closing the socket makes the client see it.
        res.destroy();
      }
      return { kind: 'upstream_failed', status: statusCode, error };
    }
  } finally {
    res.off('close', onClose);
  }
}
