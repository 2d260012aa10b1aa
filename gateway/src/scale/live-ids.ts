import type { IdSource } from '../observe/live-events.js';
import type { RedisConnection } from './redis-client.js';

/**
 * Live-event ids unique across instances, with no round trip per event: a hybrid logical clock.
 * id = ((ms since 2024 × 64) + sequence) × 64 + slot. The slot (0–63) is this instance's, drawn
 * from a Redis counter at start, so two instances never make the same id (up to 64 instances
 * per deployment; a random slot stands in until Redis answers). The clock part keeps ids
 * increasing on each instance, even if its clock steps back, and roughly in time order across
 * instances, so `Last-Event-ID` from one instance means the same event on any other. 2^53 is
 * reached in 2093.
 */
const EPOCH = Date.UTC(2024, 0, 1);
const SLOTS = 64;
const PER_MS = 64;

export class LiveIds {
  #slot = Math.floor(Math.random() * SLOTS);
  #t = 0;
  #seq = 0;

  constructor(conn: RedisConnection) {
    conn
      .ready()
      .then(() => conn.client.incr(`${conn.prefix}live:slots`))
      .then((n) => (this.#slot = n % SLOTS))
      // The random slot stays; a clash needs the same ms and sequence too.
      .catch(() => undefined);
  }

  readonly next: IdSource = () => {
    const now = Date.now() - EPOCH;
    if (now > this.#t) {
      this.#t = now;
      this.#seq = 0;
    } else if (++this.#seq >= PER_MS) {
      this.#t++;
      this.#seq = 0;
    }
    return (this.#t * PER_MS + this.#seq) * SLOTS + this.#slot;
  };
}
