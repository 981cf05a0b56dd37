-- assign: store the MH assignment and the meeting metadata of an owned meeting.
-- The state hash is replaced, not merged: an assignment describes the whole meeting.
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     the generation the caller holds
-- ARGV[2]     TTL in milliseconds for all the meeting's keys
-- ARGV[3]     MH assignment (JSON text)
-- ARGV[4..]   state field, value, field, value, ...
-- Reply       {'ok'} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current then
  return {'fenced', current}
end
redis.call('SET', KEYS[2], ARGV[3], 'PX', ARGV[2])
redis.call('DEL', KEYS[3])
hset_pairs(KEYS[3], 4)
touch(KEYS, ARGV[2])
return {'ok'}
