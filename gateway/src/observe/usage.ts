import { TextDecoder } from 'node:util';
import { createParser, type EventSourceMessage, type EventSourceParser } from 'eventsource-parser';
import { zeroUsage, type TokenUsage } from '../governance/pricing.js';

/**
 * Reads token usage off the response bytes the gateway relays, without touching them. It never
 * throws into the relay: bytes it cannot make sense of only make its answer an estimate.
 *
 * SSE: `message_start.message.usage` gives the input side; `message_delta.usage` is cumulative
 * (the last one wins, never summed) and may restate input and cache counts. Bedrock streams,
 * already converted to SSE, may instead carry `amazon-bedrock-invocationMetrics` on
 * `message_stop`; that is used only when no `message_delta` usage came. JSON: the body's `usage`.
 */

/** Larger bodies are not parsed; no real Messages response comes near this. */
const MAX_JSON_BYTES = 8 * 1024 * 1024;
/** eventsource-parser buffers an unterminated event; past this it gives up (and so do we). */
const MAX_EVENT_CHARS = 8 * 1024 * 1024;

/**
 * Output estimate while the true count is unknown: UTF-8 bytes / 3. English runs about 4 bytes a
 * token (Claude 4.7+ tokenizers about 3), so this over-counts, on purpose: a budget check on a
 * stream that is cut off or still running should stop too early rather than too late.
 */
const BYTES_PER_TOKEN = 3;

// The delta fields that carry generated text; signature_delta and citations_delta carry none.
const PAYLOAD_KEYS = ['"text":"', '"thinking":"', '"partial_json":"'] as const;

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const count = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? v : undefined);

function parse(data: string): Json | undefined {
  try {
    const v: unknown = JSON.parse(data);
    return isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Copies the counts a usage object carries over `into`; absent and null fields leave the old value,
 * because a later cumulative usage that omits a field has not reset it.
 */
function applyUsage(into: TokenUsage, u: Json): void {
  const set = (k: keyof TokenUsage, v: unknown) => {
    const n = count(v);
    if (n !== undefined) into[k] = n;
  };
  set('input_tokens', u.input_tokens);
  set('output_tokens', u.output_tokens);
  set('cache_creation_input_tokens', u.cache_creation_input_tokens);
  set('cache_read_input_tokens', u.cache_read_input_tokens);
  if (isObj(u.cache_creation)) {
    set('cache_creation_5m', u.cache_creation.ephemeral_5m_input_tokens);
    set('cache_creation_1h', u.cache_creation.ephemeral_1h_input_tokens);
  }
}

/**
 * UTF-8 bytes of a content_block_delta's text without JSON.parse (about 3× cheaper, and streams
 * carry thousands of deltas). The bytes are counted still JSON-escaped, which is never fewer than
 * the text's own (`\n` is 2 bytes for 1, `\u00e9` 6 for 2), so the estimate stays on the high side.
 * A key pattern with its quotes cannot match inside a string value, whose quotes are escaped.
 */
function deltaBytes(data: string): number {
  for (const key of PAYLOAD_KEYS) {
    const k = data.indexOf(key);
    if (k < 0) continue;
    const start = k + key.length;
    for (let from = start; ; ) {
      const q = data.indexOf('"', from);
      if (q < 0) break;
      let slashes = 0;
      while (data.charCodeAt(q - 1 - slashes) === 0x5c) slashes++;
      if (slashes % 2 === 0) return Buffer.byteLength(data.slice(start, q));
      from = q + 1;
    }
  }
  // Not in the compact form the fast path expects (or no text at all): parse to be sure.
  const delta = parse(data)?.delta;
  if (!isObj(delta)) return 0;
  const text = delta.text ?? delta.thinking ?? delta.partial_json;
  return typeof text === 'string' ? Buffer.byteLength(text) : 0;
}

export class UsageTap {
  readonly #kind: 'sse' | 'json';
  readonly #decoder = new TextDecoder();
  readonly #parser: EventSourceParser | undefined;
  /** Usage as reported so far: message_start, then each message_delta's fields over it. */
  #usage: TokenUsage | undefined;
  #startOutput = 0;
  #final = false;
  #sawDeltaUsage = false;
  #textBytes = 0;
  #model: string | undefined;
  #streamError: string | undefined;
  #broken = false;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  #ended = false;

  constructor(kind: 'sse' | 'json') {
    this.#kind = kind;
    if (kind === 'sse') {
      this.#parser = createParser({ onEvent: (e) => this.#onEvent(e), maxBufferSize: MAX_EVENT_CHARS });
    }
  }

  /** Observe one relayed chunk (any split: events and even UTF-8 characters may straddle chunks). */
  push(chunk: Buffer): void {
    if (this.#kind === 'json') {
      this.#bodyBytes += chunk.length;
      if (this.#bodyBytes <= MAX_JSON_BYTES) this.#body.push(chunk);
      else this.#body = [];
      return;
    }
    if (this.#broken) {
      // The parser gave up (an event over MAX_EVENT_CHARS): count raw bytes so the estimate still grows.
      this.#textBytes += chunk.length;
      return;
    }
    try {
      this.#parser?.feed(this.#decoder.decode(chunk, { stream: true }));
    } catch {
      this.#broken = true;
      this.#textBytes += chunk.length;
    }
  }

  /** For the JSON kind, call once at the end (parses the collected body; bodies over 8 MB are not parsed). */
  end(): void {
    if (this.#ended) return;
    this.#ended = true;
    if (this.#kind === 'sse') return;
    if (this.#bodyBytes > MAX_JSON_BYTES) return;
    const body = parse(Buffer.concat(this.#body).toString('utf8'));
    this.#body = [];
    if (!body) return;
    if (typeof body.model === 'string') this.#model = body.model;
    if (body.type === 'error' && isObj(body.error) && typeof body.error.type === 'string') this.#streamError = body.error.type;
    // A well-formed body without usage (an error) generated nothing to bill; drop the byte estimate.
    this.#usage = zeroUsage();
    if (!isObj(body.usage)) return;
    applyUsage(this.#usage, body.usage);
    this.#startOutput = this.#usage.output_tokens;
    this.#final = true;
  }

  /** Input side as soon as it is known (SSE: message_start, updated by any later restatement; JSON: after end()). */
  get input(): TokenUsage | undefined {
    return this.#usage && { ...this.#usage, output_tokens: this.#startOutput };
  }

  /** Output tokens so far: the reported count once seen, else the byte estimate (see BYTES_PER_TOKEN). */
  get outputTokens(): number {
    if (this.#final) return this.#usage?.output_tokens ?? 0;
    if (this.#kind === 'json') return this.#usage ? 0 : Math.ceil(this.#bodyBytes / BYTES_PER_TOKEN);
    return Math.max(this.#startOutput, Math.ceil(this.#textBytes / BYTES_PER_TOKEN));
  }

  /** True once a final usage has been seen (message_delta usage or Bedrock metrics; a parsed body with usage). */
  get final(): boolean {
    return this.#final;
  }

  /** The best usage known now: final if seen, else input + estimated output. */
  usage(): TokenUsage {
    return { ...(this.#usage ?? zeroUsage()), output_tokens: this.outputTokens };
  }

  /** The model named in message_start / the JSON body, if any. */
  get model(): string | undefined {
    return this.#model;
  }

  /** The error.type of an `event: error` in the stream (or of a JSON error body). */
  get streamError(): string | undefined {
    return this.#streamError;
  }

  // Clients act only on named events (protocols.md A5), so unnamed ones are ignored here too.
  #onEvent(e: EventSourceMessage): void {
    switch (e.event) {
      case 'content_block_delta':
        this.#textBytes += deltaBytes(e.data);
        return;
      case 'message_start': {
        const message = parse(e.data)?.message;
        if (!isObj(message)) return;
        if (typeof message.model === 'string') this.#model = message.model;
        this.#usage ??= zeroUsage();
        if (isObj(message.usage)) applyUsage(this.#usage, message.usage);
        this.#startOutput = this.#usage.output_tokens;
        return;
      }
      case 'message_delta': {
        const usage = parse(e.data)?.usage;
        if (!isObj(usage)) return;
        this.#usage ??= zeroUsage();
        applyUsage(this.#usage, usage);
        this.#sawDeltaUsage = true;
        this.#final = true;
        return;
      }
      case 'message_stop':
        if (e.data.includes('invocationMetrics')) this.bedrockMetrics(parse(e.data)?.['amazon-bedrock-invocationMetrics']);
        return;
      case 'error': {
        const error = parse(e.data)?.error;
        this.#streamError = isObj(error) && typeof error.type === 'string' ? error.type : 'unknown_error';
        return;
      }
    }
  }

  /**
   * Bedrock's own totals (`amazon-bedrock-invocationMetrics`), used only when no message_delta
   * usage came, so nothing is counted twice. Read off `message_stop` automatically; public for a
   * converter that strips the field from the relayed event and reports it on the side.
   * inputTokenCount excludes cache reads and writes, like input_tokens.
   */
  bedrockMetrics(m: unknown): void {
    if (this.#sawDeltaUsage || !isObj(m) || count(m.outputTokenCount) === undefined) return;
    this.#usage ??= zeroUsage();
    applyUsage(this.#usage, {
      input_tokens: m.inputTokenCount,
      output_tokens: m.outputTokenCount,
      cache_read_input_tokens: m.cacheReadInputTokenCount,
      cache_creation_input_tokens: m.cacheWriteInputTokenCount,
    });
    this.#final = true;
  }
}
