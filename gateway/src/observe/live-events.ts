import type { KeyRecord } from '../store/types.js';

/**
 * The hub behind the live event streams (`/api/me/events`, `/api/admin/events`): gives every event
 * an id, keeps the last ones in a ring so a client that reconnects with `Last-Event-ID` misses
 * nothing, and fans each event out to the streams whose filter takes it. Knows nothing of HTTP.
 *
 * Frames (the wire shape, see docs/events.md):
 *   event: request.start   data: RequestStart (observe/log-row.ts)
 *   event: request.finish  data: LogRow
 *   event: spend           data: { key_id, request_id, budgets: BudgetView[] }   (developer streams only)
 *   event: budget.alert    data: BudgetAlert (governance/alerts.ts)
 *   event: reset           data: { reason, reload }: events were missed; reload from `reload`
 */

export type LiveEventType = 'request.start' | 'request.finish' | 'spend' | 'budget.alert';

export interface LiveEvent {
  readonly id: number;
  readonly type: LiveEventType;
  /** Who the event concerns, for filters. */
  readonly key_id: string | null;
  readonly workspace: string | null;
  /** A budget alert's scope (`key:<id>`, `ws:<slug>`, `user:<ws>:<user>`). */
  readonly scope: string | null;
  /** The whole SSE frame, serialised once for every stream. */
  readonly frame: string;
}

export type Publishable = Omit<LiveEvent, 'id' | 'frame'> & { data: unknown };
export type LiveFilter = (ev: LiveEvent) => boolean;

export interface LiveOptions {
  /** How often an idle stream gets a `: heartbeat` comment (proxies close silent connections). */
  heartbeatMs: number;
  /** Events kept for clients that reconnect; read when a hub is made. */
  bufferSize: number;
  /** Bytes a stream may have waiting for a slow client before the client is dropped. */
  maxBacklogBytes: number;
}

const DEFAULTS: LiveOptions = { heartbeatMs: 15_000, bufferSize: 1_000, maxBacklogBytes: 1024 * 1024 };
let options: LiveOptions = { ...DEFAULTS };

export function liveOptions(): Readonly<LiveOptions> {
  return options;
}

/** For tests (short heartbeats, small backlogs); not part of the user config. Returns what was set before. */
export function setLiveOptions(o: Partial<LiveOptions>): LiveOptions {
  const before = options;
  options = { ...options, ...o };
  return before;
}

/**
 * One counter for the process. It starts at the start time in ms, so an id a client kept from an
 * earlier run of the gateway is older than anything this run has, and gets a reset.
 */
let lastId = Date.now();

/**
 * Makes event ids. The default counts up from the start time; a multi-instance deployment
 * passes one whose ids are unique across instances (scale/live-ids.ts), so an id one instance
 * sent means the same event on every other.
 */
export type IdSource = () => number;
const localIds: IdSource = () => lastId + 1;

/** How long after a developer's last stream closes its `spend` events are still made (to replay on reconnect). */
const SPEND_LINGER_MS = 60_000;

export function sseFrame(id: number, type: string, data: unknown): string {
  // JSON.stringify escapes CR and LF, so the data is always one `data:` line.
  return `id: ${id}\nevent: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

interface Subscriber {
  filter: LiveFilter;
  send(ev: LiveEvent): void;
}

export interface Subscription {
  /** The buffered events after `Last-Event-ID` that pass the filter, or `reset` when some are gone. */
  backlog: LiveEvent[] | 'reset';
  /** The newest id now: what a reset frame carries, so the next reconnect starts from here. */
  lastId: number;
  close(): void;
}

export class LiveHub {
  readonly #ring: LiveEvent[] = [];
  #head = 0;
  /** Ids up to this one can no longer be replayed (evicted, or from before this hub). */
  #gone = lastId;
  readonly #subs = new Set<Subscriber>();
  readonly #spendWatch = new Map<string, { open: number; closedAt: number }>();
  #later: Promise<void> = Promise.resolve();

  readonly #capacity: number;

  constructor(
    capacity = options.bufferSize,
    private readonly onError: (err: unknown) => void = () => undefined,
    private readonly nextId: IdSource = localIds,
  ) {
    this.#capacity = Math.max(1, capacity);
  }

  /** Streams open now. */
  get size(): number {
    return this.#subs.size;
  }

  /** `id`: the one another instance gave the event (events fanned out over Redis). */
  publish(p: Publishable, id = this.nextId()): LiveEvent {
    if (id > lastId) lastId = id;
    const ev: LiveEvent = { id, type: p.type, key_id: p.key_id, workspace: p.workspace, scope: p.scope, frame: sseFrame(id, p.type, p.data) };
    if (this.#ring.length < this.#capacity) this.#ring.push(ev);
    else {
      this.#gone = this.#ring[this.#head]!.id;
      this.#ring[this.#head] = ev;
      this.#head = (this.#head + 1) % this.#capacity;
    }
    for (const s of this.#subs) {
      try {
        if (s.filter(ev)) s.send(ev);
      } catch (err) {
        // One broken stream must not keep the event from the others.
        this.onError(err);
      }
    }
    return ev;
  }

  /**
   * Publishes what `make` resolves to (nothing when undefined), after every earlier deferred
   * event: derived events (spend, alerts) keep the order they were asked for.
   */
  defer(make: () => Promise<Publishable | undefined>, then?: (ev: LiveEvent, p: Publishable) => void): void {
    this.#later = this.#later
      .then(make)
      .then((p) => {
        if (!p) return;
        const ev = this.publish(p);
        then?.(ev, p);
      })
      .catch(this.onError);
  }

  /** Resolves once every deferred event so far is published. */
  settled(): Promise<void> {
    return this.#later;
  }

  /**
   * Registers a stream. The backlog is taken in the same step, so between it and the live events
   * nothing is lost or sent twice. `spendFor` names the key whose `spend` events it wants.
   */
  subscribe(s: Subscriber & { lastEventId?: string; spendFor?: string }): Subscription {
    const sub: Subscriber = { filter: s.filter, send: s.send };
    const backlog = s.lastEventId === undefined ? [] : this.#since(s.lastEventId, s.filter);
    this.#subs.add(sub);
    let watch: { open: number; closedAt: number } | undefined;
    if (s.spendFor !== undefined) {
      watch = this.#spendWatch.get(s.spendFor) ?? { open: 0, closedAt: 0 };
      watch.open++;
      this.#spendWatch.set(s.spendFor, watch);
    }
    let closed = false;
    return {
      backlog,
      lastId,
      close: () => {
        if (closed) return;
        closed = true;
        this.#subs.delete(sub);
        if (watch) {
          watch.open--;
          watch.closedAt = Date.now();
        }
      },
    };
  }

  /** Whether anyone is (or was just now) listening for this key's spend: it costs a budget read. */
  wantsSpend(keyId: string, now = Date.now()): boolean {
    const w = this.#spendWatch.get(keyId);
    if (!w) return false;
    if (w.open > 0 || now - w.closedAt < SPEND_LINGER_MS) return true;
    this.#spendWatch.delete(keyId);
    return false;
  }

  #since(raw: string, filter: LiveFilter): LiveEvent[] | 'reset' {
    const after = /^\d+$/.test(raw.trim()) ? Number(raw.trim()) : NaN;
    // Unreadable, from another run, or older than the ring: the client cannot be brought up to date.
    if (!Number.isSafeInteger(after) || after < this.#gone || after > lastId) return 'reset';
    const out: LiveEvent[] = [];
    const n = this.#ring.length;
    for (let i = 0; i < n; i++) {
      const ev = this.#ring[(this.#head + i) % n]!;
      if (ev.id > after && filter(ev)) out.push(ev);
    }
    return out;
  }
}

/** What a developer's own key may see: its requests, its spend, alerts on its key, workspace or pinned user. */
export function keyFilter(key: Pick<KeyRecord, 'id' | 'workspace' | 'metadata'>): LiveFilter {
  const scopes = new Set([`key:${key.id}`, `ws:${key.workspace}`]);
  const user = key.metadata.user;
  if (user) scopes.add(`user:${key.workspace}:${user}`);
  return (ev) => (ev.type === 'budget.alert' ? ev.scope !== null && scopes.has(ev.scope) : ev.key_id === key.id);
}

/** Everything but `spend` (the admin reads budgets at `/api/admin/budgets`), narrowed by workspace and key. */
export function adminFilter(q: { workspace?: string; key_id?: string }): LiveFilter {
  return (ev) => ev.type !== 'spend' && (q.workspace === undefined || ev.workspace === q.workspace) && (q.key_id === undefined || ev.key_id === q.key_id);
}
