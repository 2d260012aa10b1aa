import type { LiveEvent, Publishable } from '../observe/live-events.js';
import type { ScaleBus } from './bus.js';

/**
 * Live events of every instance for the streams of every instance: what one instance publishes
 * (request start and finish, budget alerts) goes over the bus with its id, and the others publish
 * it in their own hubs under that same id. `spend` events are not sent: each instance derives
 * them from the finishes it sees, for its own streams, from the shared budget counters.
 */
const TOPIC = 'live';

interface Shared {
  id: number;
  p: Publishable;
}

export interface LiveFanout {
  share(ev: LiveEvent, p: Publishable): void;
  stop(): void;
}

export function liveFanout(bus: ScaleBus, deliver: (p: Publishable, id: number) => void): LiveFanout {
  const stop = bus.on(TOPIC, (payload) => {
    const m = payload as Shared;
    if (typeof m?.id === 'number' && m.p) deliver(m.p, m.id);
  });
  return {
    share: (ev, p) => {
      if (p.type !== 'spend') bus.publish(TOPIC, { id: ev.id, p } satisfies Shared);
    },
    stop,
  };
}
