import type { GatehouseConfig } from '../config/schema.js';
import { MODEL_ALIASES, MODEL_CATALOG, type PriceRates } from './model-catalog.js';

/**
 * What a request costs, in USD, from the token counts the provider reported. Prices are USD per
 * million tokens: the built-in catalog, overridden or extended by the config file's `pricing`.
 * Pure: no I/O, nothing rounded (rounding is for display).
 */

/** The usage fields that carry a price; `cache_creation_5m/1h` split the cache writes by TTL. */
export interface TokenUsage {
  input_tokens: number;
  output_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation_5m: number;
  cache_creation_1h: number;
}

export type Cost = { usd: number; priced_as: string } | { usd: null; reason: string };

export interface PriceTier extends PriceRates {
  above_input_tokens: number;
}

/** A price row with every rate filled in and its tiers sorted by threshold, lowest first. */
export interface ResolvedPrice extends PriceRates {
  tiers: readonly PriceTier[];
}

export function zeroUsage(): TokenUsage {
  return { input_tokens: 0, output_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cache_creation_5m: 0, cache_creation_1h: 0 };
}

type PriceInput = { input: number; output: number; cache_write_5m?: number | undefined; cache_write_1h?: number | undefined; cache_read?: number | undefined };

// Anthropic's standard cache multipliers; rows that publish their own cache rates (Opus 5.5 reads, …) keep them.
function fill(p: PriceInput): PriceRates {
  return {
    input: p.input,
    output: p.output,
    cache_write_5m: p.cache_write_5m ?? p.input * 1.25,
    cache_write_1h: p.cache_write_1h ?? p.input * 2,
    cache_read: p.cache_read ?? p.input * 0.1,
  };
}

function resolve(p: PriceInput & { tiers?: ReadonlyArray<PriceInput & { above_input_tokens: number }> | undefined }): ResolvedPrice {
  const tiers = (p.tiers ?? []).map((t) => ({ above_input_tokens: t.above_input_tokens, ...fill(t) }));
  return { ...fill(p), tiers: tiers.sort((a, b) => a.above_input_tokens - b.above_input_tokens) };
}

const DATE_SUFFIX = /-\d{8}$/;

/**
 * One spelling for the ways clients and providers name a model: the last segment of an ARN or a
 * Vertex resource path, Bedrock's `[region.]anthropic.` prefix and `-v1:0` suffix dropped, and
 * Vertex's `@20250929` written as Anthropic's `-20250929`.
 */
function spelling(model: string): string {
  let id = model.trim().toLowerCase();
  id = id.slice(id.lastIndexOf('/') + 1);
  const bedrock = /^(?:[a-z-]+\.)?anthropic\./.exec(id);
  // Only Bedrock ids lose `-v1:0`; elsewhere `-v2` may be what tells two configured models apart.
  if (bedrock) id = id.slice(bedrock[0].length).replace(/-v\d+(?::[0-9a-z]+)*$/, '');
  const at = id.indexOf('@');
  if (at >= 0) id = /^\d{8}$/.test(id.slice(at + 1)) ? `${id.slice(0, at)}-${id.slice(at + 1)}` : id.slice(0, at);
  return id;
}

/** Ids to try, most specific first: as spelt, its dated alias, undated, the undated form's alias. */
function candidates(id: string): string[] {
  const undated = id.replace(DATE_SUFFIX, '');
  return [id, MODEL_ALIASES[id], undated, MODEL_ALIASES[undated]].filter((c): c is string => c !== undefined);
}

function ratesFor(price: ResolvedPrice, totalInput: number): { rates: PriceRates; tier: PriceTier | undefined } {
  let tier: PriceTier | undefined;
  for (const t of price.tiers) if (totalInput > t.above_input_tokens) tier = t;
  return { rates: tier ?? price, tier };
}

export class PriceBook {
  readonly #rows = new Map<string, ResolvedPrice>();
  /** Undated form → dated row id, so `claude-x` finds a dated row that only the config knows. */
  readonly #undated = new Map<string, string>();

  constructor(overrides: GatehouseConfig['pricing']) {
    for (const m of MODEL_CATALOG) this.#rows.set(m.id, resolve(m.price));
    for (const [model, price] of Object.entries(overrides)) {
      // A config row replaces the whole built-in row (tiers included) for the same model, however it is spelt.
      const id = spelling(model);
      const key = candidates(id).find((c) => this.#rows.has(c)) ?? id;
      this.#rows.set(key, resolve(price));
    }
    for (const id of this.#rows.keys()) {
      if (DATE_SUFFIX.test(id)) this.#undated.set(id.replace(DATE_SUFFIX, ''), id);
    }
  }

  /** The price row for a model id as clients, Bedrock or Vertex spell it, or undefined. */
  lookup(model: string): { id: string; price: ResolvedPrice } | undefined {
    const id = spelling(model);
    const undated = this.#undated.get(id);
    const key = [...candidates(id), ...(undated ? [undated] : [])].find((c) => this.#rows.has(c));
    const price = key === undefined ? undefined : this.#rows.get(key);
    return key !== undefined && price ? { id: key, price } : undefined;
  }

  cost(model: string, usage: TokenUsage): Cost {
    const row = this.lookup(model);
    if (!row) return { usd: null, reason: `no price for model "${model}"; add it under "pricing" in the config` };
    const split = usage.cache_creation_5m + usage.cache_creation_1h;
    // Writes the TTL split does not account for (no `cache_creation` from older models) are billed as 5-minute writes.
    const writes5m = usage.cache_creation_5m + Math.max(0, usage.cache_creation_input_tokens - split);
    const writes1h = usage.cache_creation_1h;
    const total = usage.input_tokens + writes5m + writes1h + usage.cache_read_input_tokens;
    const { rates, tier } = ratesFor(row.price, total);
    const usd =
      (usage.input_tokens * rates.input +
        writes5m * rates.cache_write_5m +
        writes1h * rates.cache_write_1h +
        usage.cache_read_input_tokens * rates.cache_read +
        usage.output_tokens * rates.output) /
      1_000_000;
    return { usd, priced_as: tier ? `${row.id} (input over ${tier.above_input_tokens} tokens)` : row.id };
  }

  /**
   * What to reserve before the response is known: all input at the input rate of the tier its
   * total falls in, output at that tier's output rate. Not a strict bound, deliberately: cache
   * writes bill at 1.25–2× input, but a prompt that caches is mostly cheap reads (0.1×), so
   * pricing all of it as writes would over-reserve many times over. Undefined without a price.
   */
  estimate(model: string, inputTokens: number, outputTokens: number): number | undefined {
    const row = this.lookup(model);
    if (!row) return undefined;
    const { rates } = ratesFor(row.price, inputTokens);
    return (inputTokens * rates.input + outputTokens * rates.output) / 1_000_000;
  }
}
