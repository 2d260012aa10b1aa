import { EventStreamCodec, getChunkedStream, type Message } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { bedrockStreamErrorType } from './bedrock-errors.js';

/**
 * Bedrock's binary event stream → Anthropic SSE. Frames are split and decoded (prelude and
 * message CRC32s checked) by the AWS SDK's own codec; each chunk's payload holds one Anthropic
 * stream event, re-emitted in the same order as `event: <type>\ndata: <json>\n\n`. Bedrock sends
 * no pings, so one is synthesised whenever the upstream has been silent for `pingMs` (Claude
 * Code aborts a stream after 5 minutes without bytes).
 */

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const PING = Buffer.from('event: ping\ndata: {"type": "ping"}\n\n');

export interface InvocationMetrics {
  inputTokenCount?: number;
  outputTokenCount?: number;
  invocationLatency?: number;
  firstByteLatency?: number;
}

const header = (m: Message, name: string): string | undefined => {
  const h = m.headers[name];
  return h && (h.type === 'string' ? h.value : undefined);
};

const sse = (type: string, json: string) => Buffer.from(`event: ${type}\ndata: ${json}\n\n`);

function errorEvent(type: string, message: string): Buffer {
  return sse('error', JSON.stringify({ type: 'error', error: { type, message } }));
}

/** One decoded frame as SSE bytes; `end` when it was an exception or error frame. */
function frameToSse(m: Message, onMetrics: (m: InvocationMetrics) => void): { bytes: Buffer; end: boolean } {
  const kind = header(m, ':message-type');
  if (kind === 'event') {
    const payload = JSON.parse(toUtf8(m.body)) as { bytes?: string };
    const json = Buffer.from(payload.bytes ?? '', 'base64').toString('utf8');
    const event = JSON.parse(json) as { type?: string; 'amazon-bedrock-invocationMetrics'?: InvocationMetrics };
    const type = event.type ?? 'unknown';
    const metrics = event['amazon-bedrock-invocationMetrics'];
    if (metrics) {
      // Bedrock's own usage summary: kept for accounting, not sent (Anthropic's event has no such field).
      onMetrics(metrics);
      delete event['amazon-bedrock-invocationMetrics'];
      return { bytes: sse(type, JSON.stringify(event)), end: false };
    }
    return { bytes: sse(type, json), end: false };
  }
  if (kind === 'exception') {
    const name = header(m, ':exception-type') ?? 'internalServerException';
    let message = name;
    try {
      message = (JSON.parse(toUtf8(m.body)) as { message?: string }).message ?? name;
    } catch {
      // A non-JSON payload: the exception name is all there is to say.
    }
    return { bytes: errorEvent(bedrockStreamErrorType(name), `Bedrock ${name}: ${message}`), end: true };
  }
  const code = header(m, ':error-code') ?? 'InternalError';
  return { bytes: errorEvent(bedrockStreamErrorType(code), `Bedrock ${code}: ${header(m, ':error-message') ?? ''}`.trim()), end: true };
}

export async function* eventStreamToSse(body: AsyncIterable<Uint8Array>, opts: { pingMs: number; onMetrics?: (m: InvocationMetrics) => void }): AsyncGenerator<Buffer> {
  const frames = getChunkedStream(body)[Symbol.asyncIterator]();
  const onMetrics = opts.onMetrics ?? (() => undefined);
  let pending = frames.next();
  try {
    for (;;) {
      let timer: NodeJS.Timeout | undefined;
      const silent = new Promise<'silent'>((r) => (timer = setTimeout(() => r('silent'), opts.pingMs)));
      const next = await Promise.race([pending, silent]);
      clearTimeout(timer);
      if (next === 'silent') {
        yield PING;
        continue;
      }
      if (next.done) return;
      pending = frames.next();
      const out = frameToSse(codec.decode(next.value), onMetrics);
      yield out.bytes;
      if (out.end) return;
    }
  } finally {
    // Stops the upstream read when the client went away or the stream ended early.
    void frames.return?.();
  }
}
