import { MODEL_ALIASES } from '../governance/model-catalog.js';
import { errors } from '../wire/errors.js';

/**
 * The one table from Anthropic model ids to Bedrock and Vertex ids. Bedrock ids are given
 * without an inference-profile prefix (`us.`, `global.`...), which the provider adds. A
 * provider's `models` map in the config overrides any row.
 */
const TABLE: Readonly<Record<string, { bedrock: string; vertex: string }>> = {
  'claude-fable-5-1': { bedrock: 'anthropic.claude-fable-5-1', vertex: 'claude-fable-5-1' },
  'claude-opus-5-5': { bedrock: 'anthropic.claude-opus-5-5', vertex: 'claude-opus-5-5' },
  'claude-sonnet-5-5': { bedrock: 'anthropic.claude-sonnet-5-5', vertex: 'claude-sonnet-5-5' },
  'claude-haiku-5-5': { bedrock: 'anthropic.claude-haiku-5-5', vertex: 'claude-haiku-5-5' },
  'claude-fable-5': { bedrock: 'anthropic.claude-fable-5', vertex: 'claude-fable-5' },
  'claude-opus-5': { bedrock: 'anthropic.claude-opus-5', vertex: 'claude-opus-5' },
  'claude-sonnet-5': { bedrock: 'anthropic.claude-sonnet-5', vertex: 'claude-sonnet-5' },
  'claude-opus-4-8': { bedrock: 'anthropic.claude-opus-4-8', vertex: 'claude-opus-4-8' },
  'claude-opus-4-7': { bedrock: 'anthropic.claude-opus-4-7', vertex: 'claude-opus-4-7' },
  'claude-sonnet-4-6': { bedrock: 'anthropic.claude-sonnet-4-6', vertex: 'claude-sonnet-4-6' },
  'claude-opus-4-6': { bedrock: 'anthropic.claude-opus-4-6-v1', vertex: 'claude-opus-4-6' },
  'claude-opus-4-5-20251101': { bedrock: 'anthropic.claude-opus-4-5-20251101-v1:0', vertex: 'claude-opus-4-5@20251101' },
  'claude-haiku-4-5-20251001': { bedrock: 'anthropic.claude-haiku-4-5-20251001-v1:0', vertex: 'claude-haiku-4-5@20251001' },
  'claude-sonnet-4-5-20250929': { bedrock: 'anthropic.claude-sonnet-4-5-20250929-v1:0', vertex: 'claude-sonnet-4-5@20250929' },
};

export type ModelsConfig = readonly string[] | Readonly<Record<string, string>> | undefined;

/** Anthropic ids a provider lists: the config's, else every id the table maps for this kind. */
export function listedModels(models: ModelsConfig, fallback: readonly string[]): readonly string[] {
  if (models === undefined) return fallback;
  return Array.isArray(models) ? models : Object.keys(models);
}

export const mappedIds: readonly string[] = Object.keys(TABLE);

/** Already a provider-native id? Then it is sent as the client wrote it. */
const isNative = (kind: 'bedrock' | 'vertex', id: string) =>
  kind === 'bedrock' ? id.startsWith('arn:') || /(^|\.)anthropic\./.test(id) : id.includes('@');

/**
 * The provider's id for a requested model, or a 404 naming the provider and what it knows.
 * `prefix` is the Bedrock inference profile (`us.`), empty for Vertex.
 */
export function providerModelId(kind: 'bedrock' | 'vertex', slug: string, requested: string, models: ModelsConfig, prefix = ''): string {
  if (isNative(kind, requested)) return requested;
  const id = MODEL_ALIASES[requested] ?? requested;
  if (models !== undefined && !Array.isArray(models)) {
    const mapped = (models as Record<string, string>)[requested] ?? (models as Record<string, string>)[id];
    if (mapped) return mapped;
  }
  const listed = listedModels(models, mappedIds);
  const row = TABLE[id];
  if (!row || !listed.includes(id)) throw errors.modelNotOnProvider(requested, slug, [...listed]);
  return kind === 'bedrock' ? prefix + row.bedrock : row.vertex;
}
