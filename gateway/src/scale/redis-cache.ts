import type { Logger } from '../governance/alerts.js';
import type { AnswerCache, CachedAnswer } from '../routing/cache.js';
import { isOutage, type RedisConnection } from './redis-client.js';

/**
 * The response cache of routing configs, shared by every instance: an answer one instance
 * relayed is a HIT on the others. Same keys and rules as the in-memory ResponseCache; each entry
 * is one Redis string (so a lookup is one GET) that Redis expires itself after the config's
 * max_age. The cache is an optimisation, never a dependency: while Redis cannot be reached a
 * lookup is a MISS and nothing is stored, said once per outage in the log.
 */

/**
 * Entry layout: a 4-byte big-endian length, that many bytes of JSON (`v`, status, content type,
 * storedAt), then the body bytes untouched, so an SSE stream replays byte for byte. `v` lets a
 * later layout coexist with this one during a rolling upgrade: an unknown one reads as a MISS.
 */
const LAYOUT = 1;
const LENGTH_BYTES = 4;

interface Head {
  v: number;
  status: number;
  contentType: string;
  storedAt: number;
}

export function encodeAnswer(a: CachedAnswer): Buffer {
  const head: Head = { v: LAYOUT, status: a.status, contentType: a.contentType, storedAt: a.storedAt };
  const json = Buffer.from(JSON.stringify(head), 'utf8');
  const length = Buffer.alloc(LENGTH_BYTES);
  length.writeUInt32BE(json.length);
  return Buffer.concat([length, json, a.body]);
}

/** Undefined for anything this layout did not write (another version, a foreign key, truncation). */
export function decodeAnswer(raw: Buffer): CachedAnswer | undefined {
  if (raw.length < LENGTH_BYTES) return undefined;
  const end = LENGTH_BYTES + raw.readUInt32BE(0);
  if (end > raw.length) return undefined;
  let head: Partial<Head>;
  try {
    head = JSON.parse(raw.subarray(LENGTH_BYTES, end).toString('utf8')) as Partial<Head>;
  } catch {
    return undefined;
  }
  if (head.v !== LAYOUT || typeof head.status !== 'number' || typeof head.contentType !== 'string' || typeof head.storedAt !== 'number') return undefined;
  return { status: head.status, contentType: head.contentType, storedAt: head.storedAt, body: raw.subarray(end) };
}

export class RedisResponseCache implements AnswerCache {
  /** Set while Redis fails, so an outage is logged once, not once per request. */
  #failing = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly log: Logger,
  ) {}

  // No hash tag: each entry is used alone, so entries may spread over a cluster's shards.
  #key(key: string): string {
    return `${this.conn.prefix}cache:${key}`;
  }

  async get(key: string, maxAgeMs: number, now = Date.now()): Promise<CachedAnswer | undefined> {
    let raw: Buffer | null;
    try {
      await this.conn.ready();
      raw = await this.conn.client.getBuffer(this.#key(key));
    } catch (e) {
      this.#failed(e);
      return undefined;
    }
    this.#failing = false;
    const answer = raw === null ? undefined : decodeAnswer(raw);
    // Redis expires entries by the max_age they were stored with; a config since changed to a
    // shorter one must not serve them past it, as the in-memory cache would not.
    if (!answer || now - answer.storedAt > maxAgeMs) return undefined;
    return answer;
  }

  set(key: string, answer: CachedAnswer, maxAgeMs: number): void {
    const ttlMs = Math.ceil(maxAgeMs - (Date.now() - answer.storedAt));
    if (ttlMs <= 0) return;
    this.conn
      .ready()
      .then(() => this.conn.client.set(this.#key(key), encodeAnswer(answer), 'PX', ttlMs))
      .then(
        () => (this.#failing = false),
        (e: unknown) => this.#failed(e),
      );
  }

  #failed(e: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    const why = isOutage(e) ? 'redis is unreachable' : 'redis refused a cache command';
    this.log.warn({ redis: this.conn.where, err: String(e) }, `${why}: the response cache answers MISS and stores nothing until it is back`);
  }
}
