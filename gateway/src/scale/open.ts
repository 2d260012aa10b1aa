import type { LoadedConfig } from '../config/load.js';
import { resolveSecret } from '../config/secrets.js';
import type { Logger } from '../governance/alerts.js';
import type { Ledger, ThresholdListener } from '../governance/budgets.js';
import type { Limiter } from '../governance/rate-limit.js';
import type { SpendStore } from '../store/types.js';
import type { IdSource } from '../observe/live-events.js';
import type { AnswerCache } from '../routing/cache.js';
import { ScaleBus } from './bus.js';
import { LiveIds } from './live-ids.js';
import { RedisResponseCache } from './redis-cache.js';
import { RedisConnection } from './redis-client.js';
import { RedisBudgetLedger } from './redis-ledger.js';
import { RedisRateLimiter } from './redis-limiter.js';

/**
 * The shared counters of a multi-instance deployment, when the config has a `redis` section;
 * undefined otherwise, and the in-memory limiter and ledger stay in place (one instance needs no
 * network hop per request).
 */
export interface ScaleOut {
  limits: Limiter;
  budgets: Ledger;
  /** Messages to the other instances (admin changes). */
  bus: ScaleBus;
  /** Live-event ids unique across instances. */
  liveIds: IdSource;
  /** Cached answers of routing configs, shared by every instance. */
  cache: AnswerCache;
}

export function openScaleOut(loaded: LoadedConfig, env: NodeJS.ProcessEnv, store: SpendStore, onThreshold: ThresholdListener, log: Logger): ScaleOut | undefined {
  const cfg = loaded.config.redis;
  if (!cfg) return undefined;
  const url = resolveSecret(cfg.url, loaded.dir, env);
  // Never the URL itself in the message: it may carry the password.
  if (!url.ok) throw new Error(`redis.url (${cfg.url}) cannot be resolved: ${url.missing}`);
  if (!/^rediss?:\/\/./.test(url.value)) throw new Error(`redis.url (${cfg.url}) is not a redis:// or rediss:// URL`);
  const conn = new RedisConnection(url.value, cfg.key_prefix, log);
  const limits = new RedisRateLimiter(conn, cfg.on_failure.rate_limits, log);
  const bus = new ScaleBus(conn, log);
  // The ledger closes last on shutdown (after its spend is flushed): it closes the rest too.
  const close = () => {
    limits.close();
    bus.close();
  };
  return { limits, budgets: new RedisBudgetLedger(conn, store, onThreshold, log, close), bus, liveIds: new LiveIds(conn).next, cache: new RedisResponseCache(conn, log) };
}
