import type { BodyStore } from '../store/types.js';

const HOUR = 3_600_000;

/**
 * Deletes log rows and bodies past the retention period, and the stored blocks no remaining body
 * needs: shortly after start, then hourly, off the request path.
 */
export function startRetention(store: BodyStore, retentionDays: number, log: { warn(obj: object, msg: string): void }): () => void {
  const run = () => {
    const before = new Date(Date.now() - retentionDays * 24 * HOUR).toISOString();
    store.pruneLogs(before).catch((e: unknown) => log.warn({ err: e }, 'log retention: pruning failed'));
  };
  const first = setTimeout(run, 60_000);
  const every = setInterval(run, HOUR);
  first.unref();
  every.unref();
  return () => {
    clearTimeout(first);
    clearInterval(every);
  };
}
