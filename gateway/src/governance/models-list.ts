import { errors } from '../wire/errors.js';
import { MODEL_ALIASES, MODEL_CATALOG, type CatalogModel } from './model-catalog.js';

/** Anthropic's ModelInfo shape (`GET /v1/models`). */
export interface ModelInfo {
  type: 'model';
  id: string;
  display_name: string;
  created_at: string;
  max_input_tokens: number | null;
  max_tokens: number | null;
}

const byId = new Map<string, CatalogModel>(MODEL_CATALOG.map((m) => [m.id, m]));

function info(id: string): ModelInfo {
  const m = byId.get(id);
  // Ids an admin added that the catalogue does not know still list, with what we can say.
  return m
    ? { type: 'model', id, display_name: m.display_name, created_at: m.created_at, max_input_tokens: m.max_input_tokens, max_tokens: m.max_tokens }
    : { type: 'model', id, display_name: id, created_at: '1970-01-01T00:00:00Z', max_input_tokens: null, max_tokens: null };
}

/** Newest first, like Anthropic; ties keep catalogue order. */
export function modelInfos(ids: Iterable<string>): ModelInfo[] {
  const unique = [...new Set(ids)];
  return unique.map(info).sort((a, b) => b.created_at.localeCompare(a.created_at));
}

export interface ModelPage {
  data: ModelInfo[];
  has_more: boolean;
  first_id: string | null;
  last_id: string | null;
}

export function pageModels(all: ModelInfo[], query: { limit?: string; after_id?: string; before_id?: string }): ModelPage {
  const limit = query.limit === undefined ? 20 : Number(query.limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
    throw errors.invalidParam(`limit must be an integer from 1 to 1000; got "${query.limit}".`);
  }
  let start = 0;
  let end = all.length;
  if (query.after_id !== undefined) {
    const i = all.findIndex((m) => m.id === query.after_id);
    if (i < 0) throw errors.invalidParam(`after_id "${query.after_id}" is not a model in this list.`);
    start = i + 1;
  }
  if (query.before_id !== undefined) {
    const i = all.findIndex((m) => m.id === query.before_id);
    if (i < 0) throw errors.invalidParam(`before_id "${query.before_id}" is not a model in this list.`);
    end = i;
    start = Math.max(start, end - limit);
  }
  const data = all.slice(start, Math.min(end, start + limit));
  const has_more = query.before_id !== undefined ? start > 0 : start + data.length < end;
  return { data, has_more, first_id: data[0]?.id ?? null, last_id: data.at(-1)?.id ?? null };
}

export function findModel(all: ModelInfo[], id: string): ModelInfo {
  const found = all.find((m) => m.id === id) ?? all.find((m) => m.id === MODEL_ALIASES[id]);
  if (!found) throw errors.modelNotFound(id);
  return found;
}
