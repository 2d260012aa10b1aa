// The `redis` config section and what the gateway says about its Redis: the URL is a secret
// reference, and neither it nor its password ever appears in a message.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfigText } from '../../gateway/src/config/load.js';
import { openScaleOut } from '../../gateway/src/scale/open.js';
import { redisWhere } from '../../gateway/src/scale/redis-client.js';
import type { SpendStore } from '../../gateway/src/store/types.js';

const parse = (redis: unknown) => parseConfigText(JSON.stringify({ redis }), '/tmp/gatehouse.jsonc');

describe('the redis section', () => {
  it('takes a secret reference, with a key prefix and closed rate limits by default', () => {
    expect(parse({ url: 'env:REDIS_URL' }).redis).toEqual({ url: 'env:REDIS_URL', key_prefix: 'gatehouse:', on_failure: { rate_limits: 'closed' } });
    expect(parse({ url: 'file:/run/secrets/redis', on_failure: { rate_limits: 'open' } }).redis?.on_failure.rate_limits).toBe('open');
  });

  it('refuses a literal URL, an unknown failure mode and unknown fields', () => {
    expect(() => parse({ url: 'redis://:pw@host:6379' })).toThrow(ConfigError);
    expect(() => parse({ url: 'env:REDIS_URL', on_failure: { rate_limits: 'maybe' } })).toThrow(ConfigError);
    expect(() => parse({ url: 'env:REDIS_URL', budgets: 'open' })).toThrow(ConfigError);
  });
});

describe('naming the Redis in messages', () => {
  it('shows host and port only, never user or password', () => {
    expect(redisWhere('redis://default:s3cret@cache.internal:6380/2')).toBe('cache.internal:6380');
    expect(redisWhere('rediss://cache.internal')).toBe('cache.internal:6379');
    expect(redisWhere('not a url')).not.toContain('not a url');
  });

  it('a URL that cannot be resolved or is not redis:// stops the start without echoing it', () => {
    const loaded = (url: string) => ({ file: '/tmp/g.jsonc', dir: '/tmp', config: parse({ url }) });
    // Never reached: both fail before anything is opened.
    const store = {} as SpendStore;
    const log = { warn: () => undefined, info: () => undefined };
    expect(() => openScaleOut(loaded('env:NOPE'), {}, store, () => undefined, log)).toThrow('redis.url (env:NOPE) cannot be resolved: set the environment variable NOPE.');
    let message = '';
    try {
      openScaleOut(loaded('env:R'), { R: 'http://user:s3cret@host' }, store, () => undefined, log);
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toBe('redis.url (env:R) is not a redis:// or rediss:// URL');
  });
});
