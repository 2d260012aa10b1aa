import { UsageTap } from '../observe/usage.js';
import { errors, type GatewayError } from '../wire/errors.js';
import type { Amount, Reservation } from './budgets.js';
import type { Cost, PriceBook, TokenUsage } from './pricing.js';
import type { Lease } from './rate-limit.js';

/**
 * Watches a response as it is relayed and turns it into spend: usage from the stream (or the
 * JSON body), priced, charged against the request's reservation. With a budget on a stream, each
 * chunk is checked before it is written; when the budget cannot cover what the stream has used,
 * the stream ends there with an `event: error` that says so. Writes are then cut on SSE event
 * boundaries so the client never sees half an event before that error.
 */

/** Output tokens a stream reserves at a time. */
const GRANT_TOKENS = 1024;

export const totalTokens = (u: TokenUsage) => u.input_tokens + u.cache_creation_input_tokens + u.cache_read_input_tokens + u.output_tokens;

/** What counts toward tokens-per-minute limits: as at Anthropic, cache reads do not. */
export const rateTokens = (u: TokenUsage) => u.input_tokens + u.cache_creation_input_tokens + u.output_tokens;

export interface Spend {
  usage: TokenUsage;
  /** From the provider's final usage, or estimated from a response that ended early. */
  final: boolean;
  cost: Cost;
  model: string | undefined;
}

export type GateResult = Buffer | { stop: GatewayError };

/** Splits relayed bytes at the last complete SSE event; the rest waits for the next chunk. */
class EventAligner {
  #held: Buffer | undefined;

  take(chunk: Buffer): Buffer {
    const all = this.#held ? Buffer.concat([this.#held, chunk]) : chunk;
    const end = all.lastIndexOf('\n\n');
    if (end < 0) {
      this.#held = all;
      return Buffer.alloc(0);
    }
    this.#held = end + 2 < all.length ? all.subarray(end + 2) : undefined;
    return all.subarray(0, end + 2);
  }

  flush(): Buffer | undefined {
    const rest = this.#held;
    this.#held = undefined;
    return rest;
  }
}

export class ResponseMeter {
  readonly #tap: UsageTap;
  readonly #aligner: EventAligner | undefined;
  readonly #ahead: Amount;
  #done = false;

  constructor(
    kind: 'sse' | 'json',
    private readonly prices: PriceBook,
    private readonly requestedModel: string | undefined,
    private readonly reservation: Reservation,
    private readonly lease: Lease,
    /** Whether chunks must pass `gate` (a budget applies to a stream). */
    readonly gated: boolean,
  ) {
    this.#tap = new UsageTap(kind);
    this.#aligner = gated ? new EventAligner() : undefined;
    this.#ahead = { usd: (requestedModel && prices.estimate(requestedModel, 0, GRANT_TOKENS)) || 0, tokens: GRANT_TOKENS };
  }

  /** For ungated responses: sees each chunk. */
  observe(chunk: Buffer): void {
    this.#tap.push(chunk);
  }

  /** For gated streams: the bytes to write now, or the error that ends the stream. */
  gate(chunk: Buffer): GateResult | Promise<GateResult> {
    this.#tap.push(chunk);
    const out = this.#aligner!.take(chunk);
    const used = this.amount();
    if (this.reservation.covers(used)) return out;
    return this.reservation.extend(used, this.#ahead).then((ok) => (ok ? out : { stop: this.#cutError() }));
  }

  /** Bytes held back for alignment, at the end of a stream that completed. */
  flush(): Buffer | undefined {
    return this.#aligner?.flush();
  }

  #cutError(): GatewayError {
    const why = this.reservation.exhausted() ?? 'Budget exhausted.';
    return errors.budgetExceeded(`${why} This response was ended here; what it used has been recorded.`, null);
  }

  #model(): string | undefined {
    const answered = this.#tap.model;
    return answered && this.prices.lookup(answered) ? answered : (this.requestedModel ?? answered);
  }

  #cost(usage: TokenUsage): Cost {
    const model = this.#model();
    return model ? this.prices.cost(model, usage) : { usd: null, reason: 'the request named no model' };
  }

  amount(): Amount {
    const usage = this.#tap.usage();
    const cost = this.#cost(usage);
    return { usd: cost.usd ?? 0, tokens: totalTokens(usage) };
  }

  /** Settles the reservation and the rate-limit lease with what was used. Runs once. */
  async finish(providerUsage?: unknown): Promise<Spend> {
    this.#tap.end();
    // Bedrock's invocation metrics stand in when the stream carried no usage of its own.
    if (providerUsage !== undefined) this.#tap.bedrockMetrics(providerUsage);
    const usage = this.#tap.usage();
    const cost = this.#cost(usage);
    if (!this.#done) {
      this.#done = true;
      this.lease.settle(rateTokens(usage));
      await this.reservation.settle({ usd: cost.usd ?? 0, tokens: totalTokens(usage) });
    }
    return { usage, final: this.#tap.final, cost, model: this.#model() };
  }
}
