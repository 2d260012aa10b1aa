import { createHash } from 'node:crypto';
import type { RequestBody } from '../wire/request-body.js';
import type { RouteNode } from './config-schema.js';

/**
 * The `cache: {mode: "simple", max_age}` of routing configs: an exact-match response cache, in
 * memory, or in Redis when the config has a `redis` section (scale/redis-cache.ts). Keys cover the workspace (teams
 * never see each other's answers), the routing config, the operation, the headers that change an
 * answer, and the body normalised at the top level: the order of its fields and the spacing
 * between them do not matter; each field's value counts byte for byte. A full canonical JSON
 * (nested keys sorted) costs ~1.6 ms on a 300 KB Claude Code body against ~0.2 ms for this, and
 * clients serialise the same content the same way. Only complete 200 answers are stored; a
 * stream is stored as its SSE bytes and replayed as such.
 */

export interface CacheSetting {
  maxAgeMs: number;
}

const DEFAULT_MAX_AGE_S = 3_600;

/** `semantic` is accepted as written in configs and served as exact-match. */
export function cacheSetting(cache: RouteNode['cache']): CacheSetting | undefined {
  if (cache === undefined) return undefined;
  const maxAge = typeof cache === 'string' ? DEFAULT_MAX_AGE_S : (cache.max_age ?? DEFAULT_MAX_AGE_S);
  return { maxAgeMs: maxAge * 1000 };
}

// Configs are frozen objects that live as long as the gateway: serialise each once.
const routeText = new WeakMap<RouteNode, string>();
function routeId(route: RouteNode): string {
  let text = routeText.get(route);
  if (text === undefined) routeText.set(route, (text = JSON.stringify(route)));
  return text;
}

export function cacheKey(parts: { workspace: string; route: RouteNode; op: string; body: RequestBody; headers: Record<string, string> }): string {
  const h = createHash('sha256').update(JSON.stringify([parts.workspace, routeId(parts.route), parts.op, parts.headers['anthropic-version'] ?? '', parts.headers['anthropic-beta'] ?? '']));
  const { raw, members } = parts.body;
  for (const name of [...members.keys()].sort()) {
    const m = members.get(name)!;
    h.update(`\0${name}\0`).update(raw.subarray(m.start, m.end));
  }
  return h.digest('hex');
}

export interface CachedAnswer {
  status: number;
  contentType: string;
  body: Buffer;
  storedAt: number;
}

/** Answers larger than this are not cached. */
export const MAX_CACHED_BYTES = 8 * 1024 * 1024;

/**
 * Where answers are kept: this process (ResponseCache) or every instance (RedisResponseCache).
 * A lookup may answer at once or with a promise, so the in-memory cache adds no await to the
 * request path. Neither method fails: a cache that cannot be read answers undefined (a MISS),
 * and an answer that cannot be stored is simply asked for again next time.
 */
export interface AnswerCache {
  get(key: string, maxAgeMs: number): CachedAnswer | undefined | Promise<CachedAnswer | undefined>;
  /** `maxAgeMs` lets a store that expires entries itself drop them when they go stale. */
  set(key: string, answer: CachedAnswer, maxAgeMs: number): void;
}

/** This process's answers, least recently used evicted first once past the byte budget. */
export class ResponseCache implements AnswerCache {
  readonly #entries = new Map<string, CachedAnswer>();
  #bytes = 0;

  constructor(private readonly budgetBytes = 128 * 1024 * 1024) {}

  get(key: string, maxAgeMs: number, now = Date.now()): CachedAnswer | undefined {
    const hit = this.#entries.get(key);
    if (!hit) return undefined;
    if (now - hit.storedAt > maxAgeMs) {
      this.#delete(key, hit);
      return undefined;
    }
    // Most recently used last, so eviction takes the oldest first.
    this.#entries.delete(key);
    this.#entries.set(key, hit);
    return hit;
  }

  // Age is checked on `get`, against the config's max_age as it is then.
  set(key: string, answer: CachedAnswer): void {
    const old = this.#entries.get(key);
    if (old) this.#delete(key, old);
    this.#entries.set(key, answer);
    this.#bytes += answer.body.length;
    for (const [k, v] of this.#entries) {
      if (this.#bytes <= this.budgetBytes) break;
      this.#delete(k, v);
    }
  }

  #delete(key: string, entry: CachedAnswer): void {
    this.#entries.delete(key);
    this.#bytes -= entry.body.length;
  }
}

/** Whether a relayed answer is complete and clean enough to serve again. */
export function cacheable(status: number, contentType: string, body: Buffer): boolean {
  if (status !== 200 || body.length > MAX_CACHED_BYTES) return false;
  if (!contentType.startsWith('text/event-stream')) return true;
  const text = body.toString('utf8');
  return text.includes('event: message_stop') && !text.includes('event: error');
}
