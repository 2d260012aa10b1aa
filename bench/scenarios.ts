import { claudeCodeBody, smallBody } from './bodies.js';
import type { ReplyKind } from './upstream.js';

export interface Scenario {
  id: 'A' | 'B' | 'C' | 'D';
  title: string;
  body: () => string;
  reply: ReplyKind;
  paceMs: number;
  /** Closed-loop saturation: concurrent connections (omitted for D). */
  saturate?: { connections: number };
  /** Open-loop fixed rates (req/s) for latency and time to first byte. */
  rates: number[];
  /** D: concurrent long-lived streams. */
  hold?: { streams: number };
}

export function scenarios(quick: boolean): Scenario[] {
  return [
    { id: 'A', title: 'small non-streaming request/response', body: () => smallBody(false), reply: 'small', paceMs: 0, saturate: { connections: 50 }, rates: [200, 500] },
    { id: 'B', title: 'streaming response of 200 events', body: () => smallBody(true), reply: 'stream200', paceMs: 0, saturate: { connections: 50 }, rates: [100] },
    { id: 'C', title: 'Claude-Code-shaped: 300 KB request, streamed thinking + text + tool_use', body: () => claudeCodeBody(), reply: 'claude-code', paceMs: 0, saturate: { connections: 50 }, rates: [50] },
    // 200 events 100 ms apart: each stream lives ~20 s (4 s in the quick run).
    { id: 'D', title: `${quick ? 200 : 1000} concurrent long-lived streams`, body: () => smallBody(true), reply: 'stream200', paceMs: quick ? 20 : 100, rates: [], hold: { streams: quick ? 200 : 1000 } },
  ];
}
