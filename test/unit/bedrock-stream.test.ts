// The event-stream decoder on its own: arbitrary chunking, CRC checks, exceptions, pings.
import { EventStreamCodec } from '@smithy/eventstream-codec';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import { describe, expect, it } from 'vitest';
import { eventStreamToSse, type InvocationMetrics } from '../../gateway/src/providers/bedrock-stream.js';

const codec = new EventStreamCodec(toUtf8, fromUtf8);
const str = (value: string) => ({ type: 'string' as const, value });

function chunkFrame(event: Record<string, unknown>): Buffer {
  const body = fromUtf8(JSON.stringify({ bytes: Buffer.from(JSON.stringify(event)).toString('base64'), p: 'abcdefghij' }));
  return Buffer.from(codec.encode({ headers: { ':event-type': str('chunk'), ':content-type': str('application/json'), ':message-type': str('event') }, body }));
}

async function* pieces(bytes: Buffer, size: number, pauseMs = 0): AsyncGenerator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) {
    if (pauseMs) await new Promise((r) => setTimeout(r, pauseMs));
    yield bytes.subarray(i, i + size);
  }
}

async function collect(gen: AsyncIterable<Buffer>): Promise<string> {
  let out = '';
  for await (const b of gen) out += b.toString();
  return out;
}

const EVENTS = [
  { type: 'message_start', message: { id: 'msg_bdrk_1', type: 'message', role: 'assistant', content: [], model: 'claude', usage: { input_tokens: 5, output_tokens: 1 } } },
  { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } },
  { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'héllo' } },
  { type: 'content_block_stop', index: 0 },
  { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: 3 } },
  { type: 'message_stop', 'amazon-bedrock-invocationMetrics': { inputTokenCount: 5, outputTokenCount: 3, invocationLatency: 40, firstByteLatency: 10 } },
];

describe('eventStreamToSse', () => {
  it('re-emits every event in order whatever the chunking, and takes the invocation metrics out', async () => {
    const bytes = Buffer.concat(EVENTS.map(chunkFrame));
    for (const size of [1, 7, 64, bytes.length]) {
      let metrics: InvocationMetrics | undefined;
      const sse = await collect(eventStreamToSse(pieces(bytes, size), { pingMs: 10_000, onMetrics: (m) => (metrics = m) }));
      const names = [...sse.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]);
      expect(names).toEqual(EVENTS.map((e) => e.type));
      expect(sse).toContain('"text":"héllo"');
      expect(sse).toContain('event: message_stop\ndata: {"type":"message_stop"}\n\n');
      expect(metrics).toEqual({ inputTokenCount: 5, outputTokenCount: 3, invocationLatency: 40, firstByteLatency: 10 });
    }
  });

  it('refuses a frame whose CRC does not match', async () => {
    const frame = chunkFrame(EVENTS[0]!);
    frame[frame.length - 10] = (frame[frame.length - 10] ?? 0) ^ 0xff;
    await expect(collect(eventStreamToSse(pieces(frame, 16), { pingMs: 10_000 }))).rejects.toThrow(/checksum/i);
  });

  it('turns an exception frame into an Anthropic error event and ends', async () => {
    const exception = Buffer.from(
      codec.encode({
        headers: { ':message-type': str('exception'), ':exception-type': str('throttlingException'), ':content-type': str('application/json') },
        body: fromUtf8(JSON.stringify({ message: 'Too many tokens' })),
      }),
    );
    const sse = await collect(eventStreamToSse(pieces(Buffer.concat([chunkFrame(EVENTS[0]!), exception, chunkFrame(EVENTS[1]!)]), 50), { pingMs: 10_000 }));
    expect(sse).toMatch(/event: error\ndata: \{"type":"error","error":\{"type":"rate_limit_error","message":"Bedrock throttlingException: Too many tokens"\}\}\n\n$/);
    expect(sse).not.toContain('content_block_start');
  });

  it('sends a ping while the upstream is silent', async () => {
    const bytes = Buffer.concat([chunkFrame(EVENTS[0]!), chunkFrame(EVENTS[5]!)]);
    const half = bytes.indexOf(chunkFrame(EVENTS[5]!));
    async function* slow(): AsyncGenerator<Buffer> {
      yield bytes.subarray(0, half);
      await new Promise((r) => setTimeout(r, 120));
      yield bytes.subarray(half);
    }
    const sse = await collect(eventStreamToSse(slow(), { pingMs: 50 }));
    expect(sse.match(/event: ping\n/g)?.length).toBeGreaterThanOrEqual(1);
    expect(sse.indexOf('event: ping')).toBeGreaterThan(sse.indexOf('event: message_start'));
    expect(sse.indexOf('event: ping')).toBeLessThan(sse.indexOf('event: message_stop'));
  });
});
