/**
 * The budget ledger's Lua: the same reserve / extend / settle as governance/budgets.ts, one script
 * per step, so the check and the write are one atomic step across every instance.
 *
 * One counter per budget and period: a hash with `s` (spent), `r` (reserved in flight) and
 * `h:<reservation id>` (what each reservation holds), plus a sorted set `<counter>:exp` of the
 * reservation ids scored by when they lapse. A reservation is renewed while its request runs; one
 * whose instance died lapses after its TTL and is purged (its hold returned) by the next script
 * that touches the counter. Counters expire a day after their period ends; lifetime ones never.
 *
 * A missing counter has never been seeded (or Redis lost it): the scripts answer {-1, meter#}
 * before writing anything, the caller seeds it from the store (HSETNX) and runs the script again.
 * Numbers go back as `%.17g` strings, which round-trip a double, so sums are exactly the
 * in-memory ledger's.
 */

const COMMON = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local function fmt(x) return string.format('%.17g', x) end
local function num(c, f) return tonumber(redis.call('HGET', c, f)) or 0 end
-- Returns the holds of lapsed reservations to the counter.
local function purge(c, e)
  local gone = redis.call('ZRANGEBYSCORE', e, '-inf', now)
  if #gone == 0 then return end
  local r = num(c, 'r')
  for _, id in ipairs(gone) do
    local h = tonumber(redis.call('HGET', c, 'h:' .. id))
    if h then
      r = r - h
      redis.call('HDEL', c, 'h:' .. id)
    end
  end
  redis.call('ZREMRANGEBYSCORE', e, '-inf', now)
  redis.call('HSET', c, 'r', fmt(math.max(0, r)))
end
local function expire(c, e, at)
  if at > 0 then
    redis.call('PEXPIREAT', c, at)
    redis.call('PEXPIREAT', e, at)
  end
end
local function seeded(n)
  for i = 1, n do
    if redis.call('EXISTS', KEYS[2 * i - 1]) == 0 then return i end
  end
  return 0
end
`;

/**
 * KEYS: per meter counter, exp. ARGV: reservation id, TTL ms, then per meter limit, want, expire-at
 * (ms; 0 for lifetime). Returns {0, meter#, spent, reserved} when a budget has nothing left, else
 * {1, then per meter grant, spent, reserved}.
 */
export const RESERVE = `${COMMON}
local id, ttl, n = ARGV[1], tonumber(ARGV[2]), #KEYS / 2
local missing = seeded(n)
if missing > 0 then return {-1, missing} end
local s, r = {}, {}
for i = 1, n do
  local c, e = KEYS[2 * i - 1], KEYS[2 * i]
  purge(c, e)
  s[i], r[i] = num(c, 's'), num(c, 'r')
  if tonumber(ARGV[3 * i]) - s[i] - r[i] <= 0 then return {0, i, fmt(s[i]), fmt(r[i])} end
end
local out = {1}
for i = 1, n do
  local c, e = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, want = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1])
  local grant = math.min(want, limit - s[i] - r[i])
  r[i] = r[i] + grant
  redis.call('HSET', c, 'r', fmt(r[i]), 'h:' .. id, fmt(grant))
  redis.call('ZADD', e, now + ttl, id)
  expire(c, e, tonumber(ARGV[3 * i + 2]))
  out[#out + 1] = fmt(grant)
  out[#out + 1] = fmt(s[i])
  out[#out + 1] = fmt(r[i])
end
return out
`;

/**
 * KEYS: per meter counter, exp. ARGV: reservation id, TTL ms, then per meter limit, need (used
 * beyond what is held), ahead. Returns {1, then per meter grant, spent, reserved}.
 */
export const EXTEND = `${COMMON}
local id, ttl, n = ARGV[1], tonumber(ARGV[2]), #KEYS / 2
local missing = seeded(n)
if missing > 0 then return {-1, missing} end
local out = {1}
for i = 1, n do
  local c, e = KEYS[2 * i - 1], KEYS[2 * i]
  local limit, need, ahead = tonumber(ARGV[3 * i]), tonumber(ARGV[3 * i + 1]), tonumber(ARGV[3 * i + 2])
  local grant = 0
  if need > 0 then
    purge(c, e)
    local s, r = num(c, 's'), num(c, 'r')
    grant = math.min(math.max(0, limit - s - r), need + ahead)
    redis.call('HSET', c, 'r', fmt(r + grant), 'h:' .. id, fmt(num(c, 'h:' .. id) + grant))
    redis.call('ZADD', e, now + ttl, id)
  end
  out[#out + 1] = fmt(grant)
  out[#out + 1] = fmt(num(c, 's'))
  out[#out + 1] = fmt(num(c, 'r'))
end
return out
`;

/**
 * Replaces a reservation with what was used. KEYS: per meter counter, exp. ARGV: reservation id,
 * then per meter used, expire-at. Returns {1, then per meter spent before, spent after, reserved}:
 * a threshold is crossed by exactly the one settlement whose before/after straddle it.
 */
export const SETTLE = `${COMMON}
local id, n = ARGV[1], #KEYS / 2
local missing = seeded(n)
if missing > 0 then return {-1, missing} end
local out = {1}
for i = 1, n do
  local c, e = KEYS[2 * i - 1], KEYS[2 * i]
  purge(c, e)
  local before, r = num(c, 's'), num(c, 'r')
  local h = tonumber(redis.call('HGET', c, 'h:' .. id))
  if h then
    r = math.max(0, r - h)
    redis.call('HDEL', c, 'h:' .. id)
  end
  local after = before + tonumber(ARGV[2 * i])
  redis.call('HSET', c, 's', fmt(after), 'r', fmt(r))
  redis.call('ZREM', e, id)
  expire(c, e, tonumber(ARGV[2 * i + 1]))
  out[#out + 1] = fmt(before)
  out[#out + 1] = fmt(after)
  out[#out + 1] = fmt(r)
end
return out
`;

/** Where a budget stands. KEYS: counter, exp. Returns {1, spent, reserved}, or {-1, 1} unseeded. */
export const PEEK = `${COMMON}
if seeded(1) > 0 then return {-1, 1} end
purge(KEYS[1], KEYS[2])
return {1, fmt(num(KEYS[1], 's')), fmt(num(KEYS[1], 'r'))}
`;

/** Renews a reservation still in flight (XX: a settled one is not brought back). ARGV: id, TTL ms. */
export const TOUCH = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for _, e in ipairs(KEYS) do redis.call('ZADD', e, 'XX', now + tonumber(ARGV[2]), ARGV[1]) end
return 1
`;

/** Seeds a counter from the store's durable spend, unless an instance did first. ARGV: spent, expire-at. */
export const SEED = `
if redis.call('HSETNX', KEYS[1], 's', ARGV[1]) == 1 and tonumber(ARGV[2]) > 0 then
  redis.call('PEXPIREAT', KEYS[1], tonumber(ARGV[2]))
end
return 1
`;
