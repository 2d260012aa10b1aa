import { createParser, type EventSourceMessage } from 'eventsource-parser';
import type { BudgetView, Connection, InFlight, LogEntry, Snapshot } from '../../../webview/src/protocol.js';
import { FeedState, type FeedAlert } from './feed-state.js';
import type { FetchLike } from './io.js';
import { fetchBudgets, fetchRowsSince, startOfLocalDay } from './me-api.js';
import { httpProblem, networkProblem, type Problem } from './profile.js';

/**
 * The developer's requests and budgets, kept current: a REST load of today's rows and the
 * budgets, then `GET /api/me/events` (docs/events.md). The status bar and the log view both read
 * this one state. It reconnects with a back-off and `Last-Event-ID`, so a dropped stream misses
 * nothing; when the gateway cannot replay (it restarted, or too much was missed) it sends
 * `reset` and the state is loaded again. Rows are kept by id (feed-state.ts), so a replayed or
 * reloaded row is never counted twice. No `vscode` here: tests run it against a real gateway.
 */

export type { FeedAlert };

export type FeedEvent =
  | { type: 'snapshot' }
  | { type: 'row'; row: LogEntry }
  | { type: 'start'; start: InFlight }
  | { type: 'budgets'; budgets: BudgetView[] }
  | { type: 'connection'; connection: Connection }
  | { type: 'alert'; alert: FeedAlert };

export interface LiveFeedOptions {
  gateway: string;
  key: string;
  fetch?: FetchLike;
  now?: () => Date;
  /** Seconds to wait before each reconnect; the last repeats. */
  backoffS?: readonly number[];
  /** The gateway sends a heartbeat every 15 s; this long without a byte means the stream is dead. */
  idleTimeoutMs?: number;
  maxRows?: number;
}

export const DEFAULT_BACKOFF_S = [1, 2, 5, 10, 30] as const;

export class LiveFeed {
  readonly gateway: string;
  #key: string;
  #fetch: FetchLike;
  #now: () => Date;
  #backoff: readonly number[];
  #idleMs: number;
  #maxRows: number;
  readonly #state: FeedState;
  #connection: Connection = { state: 'connecting' };
  #lastEventId: string | null = null;
  #needReload = true;
  #listeners = new Set<(e: FeedEvent) => void>();
  #stopped = true;
  #attempt = 0;
  #offlineSince: string | null = null;
  #abort: AbortController | null = null;
  #wake: (() => void) | null = null;
  #running: Promise<void> | null = null;

  constructor(o: LiveFeedOptions) {
    this.gateway = o.gateway;
    this.#key = o.key;
    this.#fetch = o.fetch ?? ((url, init) => fetch(url, init));
    this.#now = o.now ?? (() => new Date());
    this.#backoff = o.backoffS?.length ? o.backoffS : DEFAULT_BACKOFF_S;
    this.#idleMs = o.idleTimeoutMs ?? 45_000;
    this.#maxRows = o.maxRows ?? 5_000;
    this.#state = new FeedState(this.#maxRows);
  }

  get connection(): Connection {
    return this.#connection;
  }

  get rowCount(): number {
    return this.#state.rowCount;
  }

  /** Newest first. */
  rows(): LogEntry[] {
    return this.#state.rows();
  }

  budgets(): BudgetView[] {
    return this.#state.budgets();
  }

  currentSession(): string | null {
    return this.#state.currentSession();
  }

  snapshot(): Snapshot {
    return this.#state.snapshot(this.#connection);
  }

  onEvent(fn: (e: FeedEvent) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#running = this.#run();
  }

  /** Ends the stream and any wait; resolves once the loop has stopped. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#abort?.abort();
    this.#wake?.();
    await this.#running;
    this.#running = null;
  }

  /** Reconnect now rather than after the back-off (a person asked to refresh). */
  retryNow(): void {
    this.#attempt = 0;
    this.#wake?.();
  }

  /** Loads today's rows and the budgets again; a problem leaves the old state in place. */
  async reload(): Promise<Problem | null> {
    this.#state.beginReload();
    try {
      const [b, r] = await Promise.all([fetchBudgets(this.#fetch, this.gateway, this.#key), fetchRowsSince(this.#fetch, this.gateway, this.#key, startOfLocalDay(this.#now()), this.#maxRows)]);
      if (!b.ok) return b.problem;
      if (!r.ok) return r.problem;
      this.#state.replace(r.value, b.value);
      this.#needReload = false;
      this.#emit({ type: 'snapshot' });
      return null;
    } finally {
      this.#state.endReload();
    }
  }

  #emit(e: FeedEvent): void {
    for (const fn of this.#listeners) {
      try {
        fn(e);
      } catch (err) {
        // A broken listener must not stop the feed for the others.
        console.error('gatehouse: live feed listener failed', err);
      }
    }
  }

  #setConnection(c: Connection): void {
    this.#connection = c;
    this.#emit({ type: 'connection', connection: c });
  }

  async #run(): Promise<void> {
    this.#setConnection({ state: 'connecting' });
    while (!this.#stopped) {
      const reason = await this.#streamOnce();
      if (this.#stopped) break;
      // Without an event id the gateway cannot replay what was missed: load it instead.
      if (this.#lastEventId === null) this.#needReload = true;
      const delay = this.#backoff[Math.min(this.#attempt, this.#backoff.length - 1)]!;
      this.#attempt++;
      this.#offlineSince ??= this.#now().toISOString();
      this.#setConnection({ state: 'offline', since: this.#offlineSince, reason, retryInS: delay });
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay * 1000);
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = null;
    }
    this.#setConnection({ state: 'disconnected' });
  }

  /** One connection to the event stream; resolves with why it ended. */
  async #streamOnce(): Promise<string> {
    const ctl = new AbortController();
    this.#abort = ctl;
    let idle = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const arm = () => {
      clearTimeout(timer);
      timer = setTimeout(() => {
        idle = true;
        ctl.abort();
      }, this.#idleMs);
    };
    try {
      arm();
      const headers: Record<string, string> = { accept: 'text/event-stream', authorization: `Bearer ${this.#key}` };
      if (this.#lastEventId !== null) headers['last-event-id'] = this.#lastEventId;
      const res = await this.#fetch(`${this.gateway}/api/me/events`, { headers, signal: ctl.signal });
      if (res.status !== 200 || !res.body) return httpProblem(this.gateway, '/api/me/events', res.status, await res.text().catch(() => '')).message;
      this.#attempt = 0;
      if (this.#needReload) {
        // The stream is open (subscribed) but not read yet: events from now on wait in its buffer.
        const p = await this.reload();
        if (p) return p.message;
      }
      this.#offlineSince = null;
      this.#setConnection({ state: 'live', gateway: this.gateway });
      const queue: EventSourceMessage[] = [];
      const parser = createParser({ onEvent: (m) => queue.push(m) });
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'The gateway closed the live stream (it may be restarting).';
        arm();
        parser.feed(decoder.decode(value, { stream: true }));
        for (const m of queue.splice(0)) await this.#apply(m);
      }
    } catch (e) {
      if (idle) return `No heartbeat from the gateway for ${Math.round(this.#idleMs / 1000)} s.`;
      if (e instanceof ResetFailed) return e.message;
      return networkProblem(this.gateway, e).message;
    } finally {
      clearTimeout(timer);
      ctl.abort();
    }
  }

  async #apply(m: EventSourceMessage): Promise<void> {
    let data: unknown;
    try {
      data = JSON.parse(m.data);
    } catch {
      return; // Not ours to guess at; the next reload corrects anything missed.
    }
    switch (m.event) {
      case 'request.start':
        this.#emit({ type: 'start', start: this.#state.start(data as InFlight) });
        break;
      case 'request.finish':
        this.#state.finish(data as LogEntry);
        this.#emit({ type: 'row', row: data as LogEntry });
        break;
      case 'spend':
        this.#emit({ type: 'budgets', budgets: this.#state.spend((data as { budgets?: BudgetView[] }).budgets ?? []) });
        break;
      case 'budget.alert':
        if (this.#state.alert(data as FeedAlert)) this.#emit({ type: 'alert', alert: data as FeedAlert });
        break;
      case 'reset': {
        const p = await this.reload();
        if (p) throw new ResetFailed(`The gateway asked for a reload, which failed: ${p.message}`);
        break;
      }
    }
    if (m.id) this.#lastEventId = m.id;
  }
}

class ResetFailed extends Error {}
