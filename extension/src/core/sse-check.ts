import type { Check } from './doctor.js';
import { call, httpProblem } from './profile.js';
import type { FetchLike } from './io.js';

/**
 * "Streaming fails or hangs: SSE not passing through" (seeds). The gateway's
 * `GET /api/me/diagnostics/stream` sends three `ping` events 200 ms apart, then `done`, and costs
 * nothing. Through a clean path the first event arrives about 400 ms before the last; a proxy
 * that buffers delivers them together at the end, and one that strips SSE changes the type or
 * drops the events.
 */

export const DIAGNOSTIC_PATH = '/api/me/diagnostics/stream';
/** Frames are sent 200 ms apart (ping, ping, ping, done: 600 ms); less than this apart means buffered. */
export const MIN_SPREAD_MS = 250;

const NAME = 'streaming (SSE)';
const FIX = 'Check whether a corporate proxy between you and the gateway buffers or strips SSE (text/event-stream); ask for the gateway host to be exempted.';

export async function sseCheck(fetch: FetchLike, url: string, key: string, timeoutMs = 10_000): Promise<Check> {
  const a = await call(fetch, url, DIAGNOSTIC_PATH, key, { accept: 'text/event-stream', timeoutMs });
  if (!a.ok) return { name: NAME, status: 'fail', detail: a.problem.message, fix: a.problem.fix };
  const res = a.res;
  if (res.status === 404) {
    await res.body?.cancel();
    return { name: NAME, status: 'skip', detail: 'This gateway has no streaming diagnostic (an older Gatehouse).', fix: 'Upgrade the gateway to test streaming from here.' };
  }
  if (res.status !== 200) {
    const p = httpProblem(url, DIAGNOSTIC_PATH, res.status, await res.text());
    return { name: NAME, status: 'fail', detail: p.message, fix: p.fix };
  }
  const type = res.headers.get('content-type') ?? '';
  if (!type.startsWith('text/event-stream')) {
    await res.body?.cancel();
    return { name: NAME, status: 'fail', detail: `The stream arrived as "${type || 'no content type'}", not text/event-stream: something on the way rewrites it.`, fix: FIX };
  }
  const started = Date.now();
  const arrivals: Array<{ event: string; at: number }> = [];
  let buffer = '';
  const decoder = new TextDecoder();
  try {
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let end: number;
      while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
        const frame = buffer.slice(0, end);
        buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
        const event = /^event:\s*(.+)$/m.exec(frame)?.[1]?.trim();
        if (event) arrivals.push({ event, at: Date.now() - started });
      }
    }
  } catch (e) {
    return { name: NAME, status: 'fail', detail: `The stream broke off after ${arrivals.length} events: ${(e as Error).message}.`, fix: FIX };
  }
  const first = arrivals.find((f) => f.event === 'ping');
  const done = arrivals.find((f) => f.event === 'done');
  if (!first || !done) return { name: NAME, status: 'fail', detail: `Expected ping events then done; got ${arrivals.map((f) => f.event).join(', ') || 'no events'}: the events were stripped.`, fix: FIX };
  const spread = done.at - first.at;
  if (spread < MIN_SPREAD_MS) return { name: NAME, status: 'fail', detail: `All ${arrivals.length} events arrived together (${spread} ms apart instead of about 600): something buffers the stream, so Claude Code would hang, then print everything at once.`, fix: FIX };
  return { name: NAME, status: 'pass', detail: `${arrivals.length} events arrived as they were sent, the first ${spread} ms before the last` };
}
