/**
 * The Claude models the gateway knows, newest first, with list prices in USD per million tokens
 * (input, 5-minute cache write, 1-hour cache write, cache read, output). Source: Anthropic's
 * pricing page as of 2026-11; the config file's `pricing` overrides any row.
 */
export interface CatalogModel {
  id: string;
  display_name: string;
  created_at: string;
  max_input_tokens: number | null;
  max_tokens: number | null;
  price: CatalogPrice;
}

/** USD per million tokens. */
export interface PriceRates {
  input: number;
  cache_write_5m: number;
  cache_write_1h: number;
  cache_read: number;
  output: number;
}

export interface CatalogPrice extends PriceRates {
  /** Long-context bands: a request whose total input exceeds the threshold is priced wholly at these rates. */
  tiers?: ReadonlyArray<PriceRates & { above_input_tokens: number }>;
}

const p = (input: number, cache_write_5m: number, cache_write_1h: number, cache_read: number, output: number): PriceRates => ({
  input,
  cache_write_5m,
  cache_write_1h,
  cache_read,
  output,
});

export const MODEL_CATALOG: readonly CatalogModel[] = [
  { id: 'claude-fable-5-1', display_name: 'Claude Fable 5.1', created_at: '2026-11-05T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(10, 12.5, 20, 0.25, 50) },
  { id: 'claude-opus-5-5', display_name: 'Claude Opus 5.5', created_at: '2026-10-07T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(4, 5, 8, 0.2, 20) },
  { id: 'claude-sonnet-5-5', display_name: 'Claude Sonnet 5.5', created_at: '2026-10-07T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(2, 2.5, 4, 0.1, 10) },
  { id: 'claude-haiku-5-5', display_name: 'Claude Haiku 5.5', created_at: '2026-10-07T00:00:00Z', max_input_tokens: 200_000, max_tokens: 64_000,
    // The >100K band counts cache reads and writes too; its 1h write rate is inferred as 2× input (not published).
    price: { ...p(0.1, 0.125, 0.2, 0.01, 0.5), tiers: [{ above_input_tokens: 100_000, ...p(0.5, 0.625, 1, 0.05, 2.5) }] } },
  { id: 'claude-fable-5', display_name: 'Claude Fable 5', created_at: '2026-09-01T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(10, 12.5, 20, 1, 50) },
  { id: 'claude-opus-5', display_name: 'Claude Opus 5', created_at: '2026-07-24T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(5, 6.25, 10, 0.5, 25) },
  { id: 'claude-sonnet-5', display_name: 'Claude Sonnet 5', created_at: '2026-07-24T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(2, 2.5, 4, 0.2, 10) },
  { id: 'claude-opus-4-8', display_name: 'Claude Opus 4.8', created_at: '2026-05-20T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(5, 6.25, 10, 0.5, 25) },
  { id: 'claude-opus-4-7', display_name: 'Claude Opus 4.7', created_at: '2026-04-16T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(5, 6.25, 10, 0.5, 25) },
  { id: 'claude-sonnet-4-6', display_name: 'Claude Sonnet 4.6', created_at: '2026-02-17T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 64_000, price: p(3, 3.75, 6, 0.3, 15) },
  { id: 'claude-opus-4-6', display_name: 'Claude Opus 4.6', created_at: '2026-02-05T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 128_000, price: p(5, 6.25, 10, 0.5, 25) },
  { id: 'claude-opus-4-5-20251101', display_name: 'Claude Opus 4.5', created_at: '2025-11-24T00:00:00Z', max_input_tokens: 200_000, max_tokens: 64_000, price: p(5, 6.25, 10, 0.5, 25) },
  { id: 'claude-haiku-4-5-20251001', display_name: 'Claude Haiku 4.5', created_at: '2025-10-15T00:00:00Z', max_input_tokens: 200_000, max_tokens: 64_000, price: p(1, 1.25, 2, 0.1, 5) },
  { id: 'claude-sonnet-4-5-20250929', display_name: 'Claude Sonnet 4.5', created_at: '2025-09-29T00:00:00Z', max_input_tokens: 1_000_000, max_tokens: 64_000, price: p(3, 3.75, 6, 0.3, 15) },
];

/** Undated aliases resolve to the dated ids above, as Anthropic's `/v1/models/{id}` does. */
export const MODEL_ALIASES: Readonly<Record<string, string>> = {
  'claude-opus-4-5': 'claude-opus-4-5-20251101',
  'claude-haiku-4-5': 'claude-haiku-4-5-20251001',
  'claude-sonnet-4-5': 'claude-sonnet-4-5-20250929',
};

export const CATALOG_IDS: readonly string[] = MODEL_CATALOG.map((m) => m.id);
