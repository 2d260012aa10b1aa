/**
 * The rate limiter's Lua, the same token buckets as governance/rate-limit.ts: a bucket holds up to
 * a minute's allowance, refills continuously (`level + elapsed * capacity / 60 s`, capped), is
 * full when first seen, and a request takes 1 (rpm) or its estimated tokens (tpm). Every scope is
 * checked before any is charged, inside one script, so instances cannot both take the last slot.
 *
 * Time is Redis's own (TIME), in whole ms like Date.now(): instances with skewed clocks agree.
 * Numbers go back as `%.17g` strings, which round-trip a double, so levels are exactly the
 * in-memory limiter's. A bucket key expires once it would have refilled: a missing bucket is a
 * full one, so nothing is lost and idle scopes cost no memory.
 *
 * Keys per scope: `<scope>:rq` and `<scope>:tk` (hashes of level `l` and time `a`), and
 * `<scope>:fl`, the requests in flight: a sorted set of lease ids scored by when the lease lapses.
 * An instance that dies stops renewing its leases, and its slots free themselves after the TTL.
 */

const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local MINUTE = 60000
local function fmt(x) return string.format('%.17g', x) end
-- Keeps a bucket until it would be full again (a missing bucket reads as full).
local function store(key, level, cap)
  redis.call('HSET', key, 'l', fmt(level), 'a', now)
  redis.call('PEXPIRE', key, math.max(1, math.ceil((cap - level) * MINUTE / cap)) + 1000)
end
`;

/**
 * KEYS: per scope rq, tk, fl. ARGV: est tokens, lease id, lease TTL ms, then per scope rpm, tpm,
 * max_concurrent (0 when unset). Returns {0, scope#, kind, level, now, need} for a refusal, or
 * {1, now, rq level, tk level, ...} ('' where the scope has no such limit).
 */
export const ACQUIRE = `${COMMON}
local est = tonumber(ARGV[1])
local lease = ARGV[2]
local ttl = tonumber(ARGV[3])
local n = #KEYS / 3
local function level(key, cap)
  local v = redis.call('HMGET', key, 'l', 'a')
  local l, a = tonumber(v[1]), tonumber(v[2])
  if l == nil then return cap end
  return math.min(cap, l + (now - a) * cap / MINUTE)
end
local rq, tk = {}, {}
for i = 1, n do
  local rpm, tpm, maxc = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i])
  if rpm > 0 then
    rq[i] = level(KEYS[3 * i - 2], rpm)
    if rq[i] < 1 then return {0, i, 'rpm', fmt(rq[i]), now, '1'} end
  end
  if tpm > 0 then
    tk[i] = level(KEYS[3 * i - 1], tpm)
    local need = math.min(est, tpm)
    if tk[i] < need then return {0, i, 'tpm', fmt(tk[i]), now, fmt(need)} end
  end
  if maxc > 0 then
    local fl = KEYS[3 * i]
    redis.call('ZREMRANGEBYSCORE', fl, '-inf', now)
    if redis.call('ZCARD', fl) >= maxc then return {0, i, 'conc', '0', now, '1'} end
  end
end
local out = {1, now}
for i = 1, n do
  local rpm, tpm, maxc = tonumber(ARGV[1 + 3 * i]), tonumber(ARGV[2 + 3 * i]), tonumber(ARGV[3 + 3 * i])
  local r, k = '', ''
  if rpm > 0 then
    store(KEYS[3 * i - 2], rq[i] - 1, rpm)
    r = fmt(rq[i] - 1)
  end
  if tpm > 0 then
    store(KEYS[3 * i - 1], tk[i] - est, tpm)
    k = fmt(tk[i] - est)
  end
  if maxc > 0 then
    redis.call('ZADD', KEYS[3 * i], now + ttl, lease)
    redis.call('PEXPIRE', KEYS[3 * i], ttl * 2)
  end
  out[#out + 1] = r
  out[#out + 1] = k
end
return out
`;

/**
 * Charges the real token count in place of the estimate, as RateLimiter's settle does: the level
 * moves by the difference and the bucket's time stays. KEYS: tk of each scope with a tpm.
 * ARGV: tokens - estimate, then each scope's tpm.
 */
export const SETTLE = `${COMMON}
local delta = tonumber(ARGV[1])
for i, key in ipairs(KEYS) do
  local cap = tonumber(ARGV[1 + i])
  local v = redis.call('HMGET', key, 'l', 'a')
  local l, a = tonumber(v[1]), tonumber(v[2])
  if l == nil then l, a = cap, now end
  l = l - delta
  redis.call('HSET', key, 'l', fmt(l), 'a', a)
  redis.call('PEXPIRE', key, math.max(1, math.ceil(a + (cap - l) * MINUTE / cap - now)) + 1000)
end
return 1
`;

/** Frees a lease's slot. KEYS: fl of each scope with max_concurrent. ARGV: lease id. */
export const RELEASE = `
for _, key in ipairs(KEYS) do redis.call('ZREM', key, ARGV[1]) end
return 1
`;

/** Renews a lease that is still held (XX: a released one is not brought back). ARGV: lease id, TTL ms. */
export const TOUCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, 'XX', now + tonumber(ARGV[2]), ARGV[1])
  redis.call('PEXPIRE', key, tonumber(ARGV[2]) * 2)
end
return 1
`;
