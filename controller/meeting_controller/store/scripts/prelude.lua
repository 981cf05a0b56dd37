-- Shared helpers, prepended by store/scripts.py to every script of this directory before it
-- is loaded (Redis Lua has no include). Keep it to local functions: a script's own text
-- follows it, and the SHA1 that EVALSHA uses covers the combined text.
--
-- Reply convention of every script: a table whose first element is a status string,
--   {'ok', ...}          the script did its work
--   {'fenced', current}  the caller's generation is not the stored one: nothing was written
--   {'stale', current}   (claim only) the expected generation is older than the stored one

-- The stored fencing generation of a meeting; 0 when the key does not exist (never claimed,
-- deleted, or expired).
local function current_generation(generation_key)
  return tonumber(redis.call('GET', generation_key) or '0')
end

-- The fencing check every write makes first: returns the stored generation when it differs
-- from the generation the caller holds (the write must be refused), nil when the caller is
-- the owner. A missing key (0) fences everybody out: writes never resurrect an expired or
-- deleted meeting without a new claim.
local function fence(generation_key, held)
  local current = current_generation(generation_key)
  if current ~= tonumber(held) then
    return current
  end
  return nil
end

-- Give every existing key in `keys` the TTL `ttl_ms` (PEXPIRE on a missing key is a no-op),
-- so all keys of a meeting expire together and none ever lives without a TTL.
local function touch(keys, ttl_ms)
  for _, key in ipairs(keys) do
    redis.call('PEXPIRE', key, ttl_ms)
  end
end

-- HSET the field/value pairs ARGV[first], ARGV[first + 1], ... into `key`, one pair per call
-- so that no number of pairs can overflow the Lua stack (as unpack() could).
local function hset_pairs(key, first)
  for i = first, #ARGV, 2 do
    redis.call('HSET', key, ARGV[i], ARGV[i + 1])
  end
end

-- Script body follows.
