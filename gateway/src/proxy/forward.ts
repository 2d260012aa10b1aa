import { once } from 'node:events';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import type { AdaptedAnswer, UpstreamRequest } from '../providers/types.js';
import { renderSseError } from '../wire/render-error.js';
import type { GatewayError } from '../wire/errors.js';
import { relayableResponseHeaders } from './headers.js';
import { classifyUpstreamError, type Timeouts } from './upstream.js';

/**
 * Two steps, so routing can decide between them: `dispatch` gets the provider's answer (status
 * and headers, body unread); `relay` sends it to the client. Until `relay` starts, nothing has
 * reached the client and another target may still be tried; after it, never.
 */

export interface Pending extends AdaptedAnswer {
  /** Releases the provider's connection if the answer is not relayed. */
  discard(): void;
  dropped: string[];
  slug: string;
  origin: string;
}

export type ForwardOutcome =
  | { kind: 'completed'; status: number }
  | { kind: 'client_gone'; status: number | undefined }
  | { kind: 'upstream_failed'; status: number; error: GatewayError }
  /** The gateway ended the stream itself (a budget ran out). */
  | { kind: 'cut'; status: number; error: GatewayError };

/** What a gate makes of a chunk: the bytes to write now, or the error that ends the stream. */
export type GateResult = Buffer | { stop: GatewayError };

export interface DispatchContext {
  slug: string;
  agent: Dispatcher;
  timeouts: Timeouts;
  /** Aborted when the client goes away. */
  signal: AbortSignal;
  /** A per-target limit on the wait for the response to start (routing's `request_timeout`). */
  firstByteMs?: number;
}

/**
 * Lets go of an answer's body without relaying it. A small body is read to the end so the
 * connection can be reused; destroying an undici body makes it emit an AbortError, which with no
 * listener would be an uncaught exception, so one is attached.
 */
function release(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => undefined);
  body.dump({ limit: 64 * 1024 }).catch(() => body.destroy());
}

/** Sends one request; throws a catalog error (naming the provider) if no answer comes. */
export async function dispatch(up: UpstreamRequest, ctx: DispatchContext): Promise<Pending> {
  const timeouts = ctx.firstByteMs ? { ...ctx.timeouts, first_byte_ms: ctx.firstByteMs } : ctx.timeouts;
  let answer: Dispatcher.ResponseData;
  try {
    answer = await ctx.agent.request({ origin: up.origin, path: up.path, method: up.method, headers: up.headers, body: up.body, signal: ctx.signal, headersTimeout: timeouts.first_byte_ms });
  } catch (e) {
    throw classifyUpstreamError(e, ctx.slug, up.origin, timeouts, false);
  }
  try {
    const adapted = up.adapt
      ? await up.adapt(answer)
      : { status: answer.statusCode, headers: answer.headers, body: answer.body, sse: String(answer.headers['content-type'] ?? '').startsWith('text/event-stream') };
    return { ...adapted, discard: () => release(answer.body), dropped: up.dropped ?? [], slug: ctx.slug, origin: up.origin };
  } catch (e) {
    release(answer.body);
    throw classifyUpstreamError(e, ctx.slug, up.origin, timeouts, false);
  }
}

export interface RelayContext {
  requestId: string;
  timeouts: Timeouts;
  signal: AbortSignal;
  /** Called once, just before the first byte: takes over the response, returns headers to add (CORS). */
  takeOver(): Record<string, string | number | string[] | undefined>;
  /** Routing's own response headers (`x-portkey-*`). */
  headers?: Record<string, string>;
  /** Sees each chunk as it is relayed (the response cache keeps a copy). */
  onChunk?(chunk: Buffer): void;
  /** Sees each chunk before it is written (SSE only): may hold bytes back, or end the stream. */
  gate?: { take(chunk: Buffer): GateResult | Promise<GateResult>; flush(): Buffer | undefined };
  /** Runs before the response's last bytes go out (so what must be recorded is, before the client sees the end). */
  beforeEnd?(outcome: ForwardOutcome): Promise<void>;
}

/**
 * Relays an answer chunk by chunk, with backpressure. A stream that breaks off after the first
 * byte ends with an SSE `error` event; a client that goes away aborts the provider request.
 */
export async function relay(p: Pending, res: ServerResponse, ctx: RelayContext): Promise<ForwardOutcome> {
  if (ctx.signal.aborted) {
    p.discard();
    return { kind: 'client_gone', status: p.status };
  }
  const headers: OutgoingHttpHeaders = { ...ctx.takeOver(), ...relayableResponseHeaders(p.headers), ...ctx.headers };
  headers['request-id'] ??= ctx.requestId;
  if (p.dropped.length) headers['x-gatehouse-dropped'] = p.dropped.join(',');
  res.writeHead(p.status, headers);
  // A stream's status line goes now: a client's first-byte timer should see the answer start. A
  // JSON answer's headers go with its body, in one write.
  if (p.sse) res.flushHeaders();
  try {
    const gate = p.sse ? ctx.gate : undefined;
    // With a content-length, the client sees the answer complete at its last byte, not at end():
    // the last chunk waits for beforeEnd (one chunk behind; such answers are small JSON bodies).
    const lag = ctx.beforeEnd !== undefined && headers['content-length'] !== undefined;
    let held: Buffer | undefined;
    for await (const chunk of p.body as AsyncIterable<Buffer>) {
      ctx.onChunk?.(chunk);
      let out: GateResult | undefined = chunk;
      if (gate) {
        const r = gate.take(chunk);
        out = r instanceof Promise ? await r : r;
        if (!Buffer.isBuffer(out)) {
          p.discard();
          const cut: ForwardOutcome = { kind: 'cut', status: p.status, error: out.stop };
          await ctx.beforeEnd?.(cut);
          res.end(renderSseError(out.stop, ctx.requestId));
          return cut;
        }
        if (out.length === 0) continue;
      }
      if (lag) [out, held] = [held, out];
      if (out && !res.write(out)) await once(res, 'drain', { signal: ctx.signal });
    }
    const rest = gate?.flush();
    if (rest) res.write(rest);
    const completed: ForwardOutcome = { kind: 'completed', status: p.status };
    await ctx.beforeEnd?.(completed);
    res.end(held);
    return completed;
  } catch (e) {
    if (ctx.signal.aborted || res.destroyed) {
      p.discard();
      return { kind: 'client_gone', status: p.status };
    }
    const error = classifyUpstreamError(e, p.slug, p.origin, ctx.timeouts, true);
    const failed: ForwardOutcome = { kind: 'upstream_failed', status: p.status, error };
    await ctx.beforeEnd?.(failed);
    if (p.sse) res.end(renderSseError(error, ctx.requestId));
    // A JSON body cut in half cannot be repaired; closing the socket makes the client see it.
    else res.destroy();
    return failed;
  }
}

/** An abort signal that fires when the client goes away before the response is complete. */
export function clientGone(res: ServerResponse): { signal: AbortSignal; dispose(): void } {
  const ac = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) ac.abort();
  };
  res.on('close', onClose);
  return { signal: ac.signal, dispose: () => res.off('close', onClose) };
}
