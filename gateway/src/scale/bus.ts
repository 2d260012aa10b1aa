import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../governance/alerts.js';
import type { RedisConnection } from './redis-client.js';

/**
 * Messages between the instances of one deployment, over Redis pub/sub on one channel. Delivery
 * is at most once and only to instances connected at the time, so nothing may depend on it
 * alone: an instance that reconnects is told (`onReconnect`) to catch up from the store.
 */
export type BusHandler = (payload: unknown) => void;

interface Envelope {
  from: string;
  topic: string;
  payload: unknown;
}

export class ScaleBus {
  /** Tells this instance's own messages apart from the others'. */
  readonly instance = randomUUID();
  readonly #channel: string;
  readonly #sub: Redis;
  readonly #handlers = new Map<string, BusHandler[]>();
  readonly #reconnect: Array<() => void> = [];
  /** Set while publishing fails, so an outage is logged once, not once per message. */
  #failing = false;

  constructor(
    private readonly conn: RedisConnection,
    private readonly log: Logger,
  ) {
    this.#channel = `${conn.prefix}bus`;
    // A subscribed connection can do nothing else, so it is a second one. It may queue its
    // SUBSCRIBE until connected: subscribing twice is harmless, unlike a counter script.
    this.#sub = conn.client.duplicate({ enableOfflineQueue: true, autoResubscribe: true });
    this.#sub.on('error', () => undefined);
    let connected = false;
    this.#sub.on('ready', () => {
      if (connected) for (const fn of this.#reconnect) fn();
      connected = true;
    });
    this.#sub.subscribe(this.#channel).catch((e: unknown) => log.warn({ err: String(e) }, 'could not subscribe to the redis bus'));
    this.#sub.on('message', (channel: string, text: string) => {
      if (channel !== this.#channel) return;
      let env: Envelope;
      try {
        env = JSON.parse(text) as Envelope;
      } catch {
        return;
      }
      if (env.from === this.instance) return;
      for (const h of this.#handlers.get(env.topic) ?? []) {
        try {
          h(env.payload);
        } catch (e) {
          // One failing handler must not keep the message from the others.
          log.warn({ topic: env.topic, err: String(e) }, 'a message from another instance could not be handled');
        }
      }
    });
  }

  /** Returns what stops the handler. */
  on(topic: string, handler: BusHandler): () => void {
    this.#handlers.set(topic, [...(this.#handlers.get(topic) ?? []), handler]);
    return () => this.#handlers.set(topic, (this.#handlers.get(topic) ?? []).filter((h) => h !== handler));
  }

  /** After the bus was cut off (messages may have been missed). */
  onReconnect(fn: () => void): void {
    this.#reconnect.push(fn);
  }

  /** Best effort: a message Redis cannot take is dropped (logged once per outage); the others catch up on reconnect. */
  publish(topic: string, payload: unknown = null): void {
    const env: Envelope = { from: this.instance, topic, payload };
    this.conn
      .ready()
      .then(() => this.conn.client.publish(this.#channel, JSON.stringify(env)))
      .then(
        () => (this.#failing = false),
        (e: unknown) => {
          if (this.#failing) return;
          this.#failing = true;
          this.log.warn({ redis: this.conn.where, topic, err: String(e) }, 'cannot tell the other instances over redis until it is back');
        },
      );
  }

  close(): void {
    this.#sub.disconnect();
  }
}
