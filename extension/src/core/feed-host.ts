import type { Connection, Snapshot } from '../../../webview/src/protocol.js';
import { LiveFeed, type FeedEvent, type LiveFeedOptions } from './live-feed.js';

/**
 * The one live feed of the extension, replaced on connect and dropped on disconnect. The status
 * bar and the log view subscribe here once, whichever feed is current.
 */
export class FeedHost {
  #feed: LiveFeed | null = null;
  #key: string | null = null;
  #unsubscribe: (() => void) | null = null;
  #listeners = new Set<(e: FeedEvent) => void>();

  constructor(private readonly options: Omit<LiveFeedOptions, 'gateway' | 'key'> = {}) {}

  get feed(): LiveFeed | null {
    return this.#feed;
  }

  connection(): Connection {
    return this.#feed?.connection ?? { state: 'disconnected' };
  }

  snapshot(): Snapshot {
    return this.#feed?.snapshot() ?? { connection: { state: 'disconnected' }, rows: [], inFlight: [], budgets: [], currentSession: null, timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone };
  }

  onEvent(fn: (e: FeedEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Connecting again to the same gateway with the same key keeps the running feed. */
  async start(gateway: string, key: string): Promise<void> {
    if (this.#feed && this.#feed.gateway === gateway && this.#key === key) return;
    await this.stop();
    const feed = new LiveFeed({ ...this.options, gateway, key });
    this.#feed = feed;
    this.#key = key;
    this.#unsubscribe = feed.onEvent((e) => this.#emit(e));
    feed.start();
  }

  async stop(): Promise<void> {
    const feed = this.#feed;
    if (!feed) return;
    this.#feed = null;
    this.#key = null;
    await feed.stop();
    this.#unsubscribe?.();
    this.#unsubscribe = null;
    this.#emit({ type: 'connection', connection: { state: 'disconnected' } });
  }

  #emit(e: FeedEvent): void {
    for (const fn of this.#listeners) fn(e);
  }
}
