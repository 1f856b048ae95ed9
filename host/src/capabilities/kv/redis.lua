-- The `kv` capability on Redis: shared helpers, prepended to each script in redis.rs.
--
-- Layout (every key already carries the configured prefix and the plugin's namespace):
--   a value (kv.set)             a string, with PX expiry when it has one
--   a total (kv.add)             an integer string, expiring at the time given when it was created
--   a windowed counter (incr,    a hash {s = window start (ms), w = window length (ms), n = value}
--     reserve, incr-all)         expiring when its window ends
-- Writing one kind over another replaces it, as in the in-memory store. Time is Redis's own
-- (TIME), so every replica agrees on where a window starts. Numbers are Lua doubles: exact to 2^53.

local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local function int(x)
  return string.format('%.0f', x)
end

-- The value of counter `k` in the window [start, start + w), 0 if it has none.
local function counted(k, start, w)
  if redis.call('TYPE', k)['ok'] ~= 'hash' then
    return 0
  end
  local f = redis.call('HMGET', k, 's', 'w', 'n')
  if tonumber(f[1]) == start and tonumber(f[2]) == w then
    return tonumber(f[3]) or 0
  end
  return 0
end

-- Adds `delta` (a decimal string) to counter `k` in the window starting at `start`.
local function bump(k, delta, start, w)
  if redis.call('TYPE', k)['ok'] == 'hash' then
    local f = redis.call('HMGET', k, 's', 'w')
    if tonumber(f[1]) == start and tonumber(f[2]) == w then
      return redis.call('HINCRBY', k, 'n', delta)
    end
  end
  redis.call('DEL', k)
  redis.call('HSET', k, 's', int(start), 'w', int(w), 'n', delta)
  redis.call('PEXPIREAT', k, int(start + w))
  return tonumber(delta)
end

-- Adds `delta` (a decimal string) to total `k`, creating it to expire at `expires` (ms) if absent.
local function add_total(k, delta, expires)
  if redis.call('TYPE', k)['ok'] == 'string' then
    local v = redis.pcall('INCRBY', k, delta)
    if type(v) == 'number' then return v end
  end
  redis.call('DEL', k)
  redis.call('SET', k, delta, 'PXAT', expires)
  return tonumber(delta)
end

-- The window of `w` ms holding now: its start and the ms left in it.
local function window(w)
  local now = now_ms()
  local start = now - (now % w)
  return start, start + w - now
end
