// The usage tap on its own, fed the bytes the Anthropic emulator sends: any chunking, cumulative
// deltas, restated input counts, Bedrock's metrics, cut-off streams, JSON bodies, stream errors.
import { describe, expect, it } from 'vitest';
import { zeroUsage } from '../../gateway/src/governance/pricing.js';
import { UsageTap } from '../../gateway/src/observe/usage.js';
import { buildMessage, frame, streamEvents, type ContentBlockSpec, type SseEvent, type Usage } from '../emulators/anthropic-sse.js';

const REQ = { model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'hi' }] };

function message(content: ContentBlockSpec[], usage: Partial<Usage>) {
  return buildMessage(REQ, content, { usage });
}

const sse = (events: SseEvent[]) => Buffer.from(events.map((e) => frame(e.event, e.data)).join(''));

function tap(bytes: Buffer, ...cuts: number[]): UsageTap {
  const t = new UsageTap('sse');
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    t.push(bytes.subarray(from, at));
    from = at;
  }
  return t;
}

const snapshot = (t: UsageTap) => ({ usage: t.usage(), input: t.input, out: t.outputTokens, final: t.final, model: t.model, error: t.streamError });

/** Replaces the usage of the stream's message_delta (undefined: drop it). */
function withDeltaUsage(events: SseEvent[], usage: Record<string, unknown> | undefined): SseEvent[] {
  return events.map((e) => {
    if (e.event !== 'message_delta') return e;
    const { usage: _old, ...rest } = e.data as Record<string, unknown>;
    return { event: e.event, data: usage ? { ...rest, usage } : rest };
  });
}

describe('UsageTap (SSE)', () => {
  const usage = { input_tokens: 12, output_tokens: 9, cache_creation_input_tokens: 30, cache_read_input_tokens: 400 };
  const short = message([{ type: 'text', text: 'héllo 日本 🎉 ok' }], usage);

  it('reads the emulator stream: input from message_start, output from message_delta', () => {
    const t = tap(sse(streamEvents(short)));
    expect(snapshot(t)).toEqual({
      usage: { ...usage, cache_creation_5m: 30, cache_creation_1h: 0 },
      input: { ...usage, output_tokens: 1, cache_creation_5m: 30, cache_creation_1h: 0 },
      out: 9, final: true, model: 'claude-opus-5-5', error: undefined,
    });
  });

  it('gives the same answer at every split point, inside multi-byte characters included', () => {
    const bytes = sse(streamEvents(short));
    const whole = snapshot(tap(bytes));
    // The split points include the middle of é (2 bytes), 日 (3) and 🎉 (4).
    expect(bytes.length).toBeGreaterThan(Buffer.byteLength(JSON.stringify(short)));
    for (let i = 1; i < bytes.length; i++) expect(snapshot(tap(bytes, i)), `split at ${i}`).toEqual(whole);
    const oneByteAtATime = Array.from({ length: bytes.length - 1 }, (_, i) => i + 1);
    expect(snapshot(tap(bytes, ...oneByteAtATime))).toEqual(whole);
  });

  it('takes the last cumulative message_delta, never the sum', () => {
    const events = streamEvents(message([{ type: 'text', text: 'a b c' }], { input_tokens: 50, output_tokens: 12 }));
    const last = events.findIndex((e) => e.event === 'message_delta');
    const early: SseEvent = { event: 'message_delta', data: { type: 'message_delta', delta: {}, usage: { output_tokens: 5 } } };
    const t = tap(sse([...events.slice(0, last), early, ...events.slice(last)]));
    expect(t.outputTokens).toBe(12);
    expect(t.usage().input_tokens).toBe(50);
  });

  it('lets input and cache counts on message_delta replace the message_start ones', () => {
    const events = streamEvents(message([{ type: 'text', text: 'x' }], { input_tokens: 100, output_tokens: 3 }));
    const t = tap(sse(withDeltaUsage(events, { output_tokens: 3, input_tokens: 120, cache_read_input_tokens: 50, cache_creation_input_tokens: null })));
    expect(t.usage()).toEqual({ ...zeroUsage(), input_tokens: 120, cache_read_input_tokens: 50, output_tokens: 3 });
    expect(t.input?.input_tokens).toBe(120);
  });

  it('treats absent and null cache fields as zero', () => {
    const start = { type: 'message_start', message: { model: 'claude-haiku-4-5', usage: { input_tokens: 7, output_tokens: 1, cache_creation_input_tokens: null, cache_read_input_tokens: null, cache_creation: null } } };
    const t = tap(sse([{ event: 'message_start', data: start }, { event: 'message_delta', data: { type: 'message_delta', delta: {}, usage: { output_tokens: 4 } } }]));
    expect(t.usage()).toEqual({ ...zeroUsage(), input_tokens: 7, output_tokens: 4 });
    expect(t.model).toBe('claude-haiku-4-5');
  });

  describe('Bedrock invocation metrics on message_stop', () => {
    const msg = message([{ type: 'text', text: 'from bedrock' }], { input_tokens: 40, output_tokens: 6, cache_read_input_tokens: 100 });
    const metrics = { inputTokenCount: 40, outputTokenCount: 6, invocationLatency: 300, firstByteLatency: 90 };
    const withMetrics = (events: SseEvent[]) => events.map((e) => (e.event === 'message_stop' ? { event: e.event, data: { type: 'message_stop', 'amazon-bedrock-invocationMetrics': metrics } } : e));

    it('are the final usage when no message_delta carried usage', () => {
      const t = tap(sse(withMetrics(withDeltaUsage(streamEvents(msg), undefined))));
      expect(t.final).toBe(true);
      expect(t.usage()).toMatchObject({ input_tokens: 40, output_tokens: 6, cache_read_input_tokens: 100 });
    });

    it('are ignored after message_delta usage, so nothing is counted twice', () => {
      const events = withMetrics(withDeltaUsage(streamEvents(msg), { output_tokens: 6 }));
      const t = tap(sse(events));
      t.bedrockMetrics({ inputTokenCount: 999, outputTokenCount: 999 });
      expect(t.usage()).toMatchObject({ input_tokens: 40, output_tokens: 6 });
    });

    it('can be handed over by a converter that strips them from the relayed event', () => {
      const t = tap(sse(withDeltaUsage(streamEvents(msg), undefined)));
      expect(t.final).toBe(false);
      t.bedrockMetrics(metrics);
      expect(t.final).toBe(true);
      expect(t.outputTokens).toBe(6);
    });
  });

  it('estimates output from delta bytes / 3 when the stream is cut before message_delta', () => {
    const text = 'The quick brown fox jumps over the lazy dog. '.repeat(20);
    const msg = message([{ type: 'thinking', thinking: 'Let me think.', signature: 'c2lnbmF0dXJl' }, { type: 'text', text }, { type: 'tool_use', name: 'f', input: { q: 'x' } }], { input_tokens: 30 });
    const events = streamEvents(msg);
    const t = tap(sse(events.slice(0, events.findIndex((e) => e.event === 'message_delta'))));
    expect(t.final).toBe(false);
    const payload = Buffer.byteLength('Let me think.' + text + JSON.stringify({ q: 'x' }).replace(/"/g, '\\"'));
    expect(t.outputTokens).toBe(Math.ceil(payload / 3));
    // English runs ~4 bytes a token, so the estimate is above the true count (the emulator's is bytes / 4).
    expect(t.outputTokens).toBeGreaterThanOrEqual(msg.usage.output_tokens);
    expect(t.usage()).toMatchObject({ input_tokens: 30, output_tokens: t.outputTokens });
  });

  it('counts the same bytes whether the delta JSON is compact or spaced out', () => {
    const delta = (text: string, spaced: boolean) => {
      const data = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text } };
      return `event: content_block_delta\ndata: ${JSON.stringify(data, null, spaced ? 1 : 0).replace(/\n/g, '')}\n\n`;
    };
    const text = 'naïve – 東京'.repeat(10);
    const compact = new UsageTap('sse');
    compact.push(Buffer.from(delta(text, false)));
    const spaced = new UsageTap('sse');
    spaced.push(Buffer.from(delta(text, true)));
    expect(compact.outputTokens).toBe(Math.ceil(Buffer.byteLength(text) / 3));
    expect(spaced.outputTokens).toBe(compact.outputTokens);
  });

  it('records an event: error in the stream', () => {
    const events = streamEvents(message([{ type: 'text', text: 'partial answer' }], { input_tokens: 8 }));
    const cut = events.slice(0, events.findIndex((e) => e.event === 'content_block_stop'));
    const t = tap(sse([...cut, { event: 'error', data: { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } } }]));
    expect(t.streamError).toBe('overloaded_error');
    expect(t.final).toBe(false);
    expect(t.outputTokens).toBe(Math.ceil(Buffer.byteLength('partial answer') / 3));
  });

  it('has no input and no model before message_start', () => {
    const t = new UsageTap('sse');
    t.push(Buffer.from(': comment\n\nevent: ping\ndata: {"type": "ping"}\n\n'));
    expect(snapshot(t)).toEqual({ usage: zeroUsage(), input: undefined, out: 0, final: false, model: undefined, error: undefined });
  });
});

describe('UsageTap (JSON)', () => {
  it('reads usage and model from the body, whatever the chunking, after end()', () => {
    const msg = buildMessage(REQ, [{ type: 'text', text: 'ünïcödé body' }], { model: 'claude-sonnet-4-6', usage: { input_tokens: 11, output_tokens: 4, cache_creation_input_tokens: 6, cache_read_input_tokens: 2 } });
    msg.usage.cache_creation = { ephemeral_5m_input_tokens: 2, ephemeral_1h_input_tokens: 4 };
    const bytes = Buffer.from(JSON.stringify(msg));
    const t = tap2(bytes, 3);
    expect(t.input).toBeUndefined();
    expect(t.final).toBe(false);
    t.end();
    const want = { input_tokens: 11, output_tokens: 4, cache_creation_input_tokens: 6, cache_read_input_tokens: 2, cache_creation_5m: 2, cache_creation_1h: 4 };
    expect(snapshot(t)).toEqual({ usage: want, input: want, out: 4, final: true, model: 'claude-sonnet-4-6', error: undefined });
  });

  it('bills nothing for a well-formed error body and estimates from bytes for an unparsable one', () => {
    const err = tap2(Buffer.from(JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } })), 5);
    err.end();
    expect([err.final, err.outputTokens, err.streamError]).toEqual([false, 0, 'overloaded_error']);
    const truncated = Buffer.from('{"id":"msg_1","content":[{"type":"text","text":"abc');
    const cut = tap2(truncated, 4);
    cut.end();
    expect([cut.final, cut.input, cut.outputTokens]).toEqual([false, undefined, Math.ceil(truncated.length / 3)]);
  });

  it('does not parse a body over 8 MB', () => {
    const t = new UsageTap('json');
    const big = Buffer.from(JSON.stringify({ usage: { input_tokens: 1, output_tokens: 1 }, pad: 'x'.repeat(8 * 1024 * 1024) }));
    t.push(big);
    t.end();
    expect(t.final).toBe(false);
    expect(t.outputTokens).toBe(Math.ceil(big.length / 3));
  });
});

function tap2(bytes: Buffer, size: number): UsageTap {
  const t = new UsageTap('json');
  for (let i = 0; i < bytes.length; i += size) t.push(bytes.subarray(i, i + size));
  return t;
}
