// Pricing on its own: the built-in table, model-id spellings, config overrides, long-context tiers.
import { describe, expect, it } from 'vitest';
import { ModelPriceSchema } from '../../gateway/src/config/schema.js';
import { PriceBook, zeroUsage, type TokenUsage } from '../../gateway/src/governance/pricing.js';

const usage = (u: Partial<TokenUsage>): TokenUsage => ({ ...zeroUsage(), ...u });
const book = new PriceBook({});

function usd(b: PriceBook, model: string, u: Partial<TokenUsage>): number {
  const c = b.cost(model, usage(u));
  if (c.usd === null) throw new Error(c.reason);
  return c.usd;
}

describe('PriceBook.cost with the built-in table', () => {
  it('prices Opus 5.5 with 5m and 1h writes split and its cheaper-than-standard reads', () => {
    // 2,000 in × $4 + 1,000 5m × $5 + 500 1h × $8 + 10,000 reads × $0.20 + 300 out × $20, per million.
    const got = usd(book, 'claude-opus-5-5', {
      input_tokens: 2_000, cache_creation_input_tokens: 1_500, cache_creation_5m: 1_000, cache_creation_1h: 500,
      cache_read_input_tokens: 10_000, output_tokens: 300,
    });
    expect(got).toBeCloseTo((8_000 + 5_000 + 4_000 + 2_000 + 6_000) / 1e6, 12);
    expect(book.cost('claude-opus-5-5', usage({ input_tokens: 1 }))).toMatchObject({ priced_as: 'claude-opus-5-5' });
  });

  it('prices Sonnet 4.6 at its rates (reads at 0.1× input)', () => {
    // 1,000 × $3 + 2,000 5m × $3.75 + 4,000 1h × $6 + 100,000 reads × $0.30 + 1,000 × $15.
    const got = usd(book, 'claude-sonnet-4-6', {
      input_tokens: 1_000, cache_creation_input_tokens: 6_000, cache_creation_5m: 2_000, cache_creation_1h: 4_000,
      cache_read_input_tokens: 100_000, output_tokens: 1_000,
    });
    expect(got).toBeCloseTo((3_000 + 7_500 + 24_000 + 30_000 + 15_000) / 1e6, 12);
  });

  it('bills cache writes without a TTL split as 5-minute writes', () => {
    const unsplit = usd(book, 'claude-sonnet-4-6', { cache_creation_input_tokens: 1_000_000 });
    expect(unsplit).toBeCloseTo(3.75, 12);
    // A partial split: the unaccounted 400K are 5m writes too.
    const partial = usd(book, 'claude-sonnet-4-6', { cache_creation_input_tokens: 1_000_000, cache_creation_1h: 600_000 });
    expect(partial).toBeCloseTo(0.4 * 3.75 + 0.6 * 6, 12);
  });

  it('is exactly zero for zero usage of a known model, and never zero for an unknown one', () => {
    expect(book.cost('claude-opus-5-5', zeroUsage())).toEqual({ usd: 0, priced_as: 'claude-opus-5-5' });
    expect(book.cost('gpt-9', usage({ input_tokens: 10 }))).toEqual({
      usd: null, reason: 'no price for model "gpt-9"; add it under "pricing" in the config',
    });
    expect(book.lookup('gpt-9')).toBeUndefined();
  });
});

describe('PriceBook.lookup spellings', () => {
  it.each([
    ['claude-sonnet-4-5', 'claude-sonnet-4-5-20250929'],
    ['claude-sonnet-4-5-20250929', 'claude-sonnet-4-5-20250929'],
    ['claude-haiku-4-5', 'claude-haiku-4-5-20251001'],
    ['claude-opus-4-6-20260205', 'claude-opus-4-6'],
    ['anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5-20250929'],
    ['us.anthropic.claude-sonnet-4-5-20250929-v1:0', 'claude-sonnet-4-5-20250929'],
    ['global.anthropic.claude-opus-4-6-v1', 'claude-opus-4-6'],
    ['eu.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5-20251001'],
    ['apac.anthropic.claude-sonnet-4-6', 'claude-sonnet-4-6'],
    ['arn:aws:bedrock:us-east-1:123456789012:inference-profile/us.anthropic.claude-haiku-4-5-20251001-v1:0', 'claude-haiku-4-5-20251001'],
    ['arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-opus-5-5-v1:0', 'claude-opus-5-5'],
    ['claude-sonnet-4-5@20250929', 'claude-sonnet-4-5-20250929'],
    ['claude-opus-4-6@default', 'claude-opus-4-6'],
    ['projects/p/locations/global/publishers/anthropic/models/claude-haiku-4-5@20251001', 'claude-haiku-4-5-20251001'],
  ])('%s → %s', (spelt, id) => {
    expect(book.lookup(spelt)?.id).toBe(id);
  });

  it('keeps a "-v2" that is not a Bedrock suffix, so configured models stay apart', () => {
    const b = new PriceBook({ 'my-model-v2': { input: 1, output: 2 } });
    expect(b.lookup('my-model-v2')?.id).toBe('my-model-v2');
    expect(b.lookup('my-model')).toBeUndefined();
  });
});

describe('PriceBook with config overrides', () => {
  it('lets a config row win for the same model, whatever spelling the config uses', () => {
    const b = new PriceBook({ 'claude-haiku-4-5': { input: 2, output: 8 } });
    const row = b.lookup('us.anthropic.claude-haiku-4-5-20251001-v1:0');
    // Missing cache rates come from input with the standard multipliers.
    expect(row).toEqual({ id: 'claude-haiku-4-5-20251001', price: { input: 2, output: 8, cache_write_5m: 2.5, cache_write_1h: 4, cache_read: 0.2, tiers: [] } });
    expect(usd(b, 'claude-haiku-4-5', { input_tokens: 1_000_000 })).toBeCloseTo(2, 12);
    expect(usd(book, 'claude-haiku-4-5', { input_tokens: 1_000_000 })).toBeCloseTo(1, 12);
  });

  it('adds a model the table lacks, found by its undated and Bedrock spellings', () => {
    const b = new PriceBook({ 'claude-opus-4-1-20250805': { input: 15, output: 75, cache_read: 1.5 } });
    for (const spelt of ['claude-opus-4-1-20250805', 'claude-opus-4-1', 'us.anthropic.claude-opus-4-1-20250805-v1:0', 'claude-opus-4-1@20250805']) {
      expect(b.lookup(spelt)?.id).toBe('claude-opus-4-1-20250805');
    }
    expect(usd(b, 'claude-opus-4-1', { input_tokens: 1_000, cache_read_input_tokens: 1_000, output_tokens: 1_000 })).toBeCloseTo((15_000 + 1_500 + 75_000) / 1e6, 12);
  });

  it('accepts tiers in the config schema and prices by them', () => {
    const price = ModelPriceSchema.parse({ input: 1, output: 5, tiers: [{ above_input_tokens: 200_000, input: 2, output: 10 }] });
    const b = new PriceBook({ 'my-long-model': price });
    expect(usd(b, 'my-long-model', { input_tokens: 200_000 })).toBeCloseTo(0.2, 12);
    // Over the threshold: everything at the tier, its cache rates derived from its own input rate.
    const over = b.cost('my-long-model', usage({ input_tokens: 150_000, cache_read_input_tokens: 60_000, output_tokens: 1_000 }));
    expect(over.usd).toBeCloseTo(0.3 + 0.06 * 0.2 + 0.01, 12);
    expect(over).toMatchObject({ priced_as: 'my-long-model (input over 200000 tokens)' });
    expect(ModelPriceSchema.safeParse({ input: 1, output: 5, tiers: [{ above_input_tokens: 0, input: 1, output: 1 }] }).success).toBe(false);
  });
});

describe('Haiku 5.5 long-context band', () => {
  it('prices a prompt of exactly 100K at the base rates', () => {
    expect(usd(book, 'claude-haiku-5-5', { input_tokens: 100_000, output_tokens: 1_000 })).toBeCloseTo(0.01 + 0.0005, 12);
  });

  it('prices the whole request at the >100K rates once input, writes and reads together pass 100K', () => {
    // 10K input + 20K 5m + 10K 1h + 70K reads = 110K total; none of the parts alone is over.
    const c = book.cost('claude-haiku-5-5', usage({
      input_tokens: 10_000, cache_creation_input_tokens: 30_000, cache_creation_5m: 20_000, cache_creation_1h: 10_000,
      cache_read_input_tokens: 70_000, output_tokens: 2_000,
    }));
    expect(c.usd).toBeCloseTo((10_000 * 0.5 + 20_000 * 0.625 + 10_000 * 1 + 70_000 * 0.05 + 2_000 * 2.5) / 1e6, 12);
    expect(c).toMatchObject({ priced_as: 'claude-haiku-5-5 (input over 100000 tokens)' });
  });
});

describe('PriceBook.estimate', () => {
  it('prices input at the input rate of its tier and output at the output rate', () => {
    expect(book.estimate('claude-opus-5-5', 10_000, 2_000)).toBeCloseTo((40_000 + 40_000) / 1e6, 12);
    expect(book.estimate('claude-haiku-5-5', 100_000, 1_000)).toBeCloseTo(0.01 + 0.0005, 12);
    expect(book.estimate('claude-haiku-5-5', 150_000, 1_000)).toBeCloseTo(0.075 + 0.0025, 12);
    expect(book.estimate('us.anthropic.claude-sonnet-4-6', 1_000_000, 0)).toBeCloseTo(3, 12);
    expect(book.estimate('gpt-9', 1, 1)).toBeUndefined();
  });
});
