-- put_session: store (replace) a participant session, fenced by its meeting's generation.
--
-- KEYS[1]     the meeting's generation key
-- KEYS[2]     the session key
-- ARGV[1]     the generation the caller holds
-- ARGV[2]     TTL in milliseconds for the session key
-- ARGV[3..]   field, value, field, value, ... (at least one pair)
-- Reply       {'ok'} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current then
  return {'fenced', current}
end
redis.call('DEL', KEYS[2])
hset_pairs(KEYS[2], 3)
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {'ok'}
