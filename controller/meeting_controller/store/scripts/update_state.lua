-- update_state: merge fields into the metadata hash of an owned meeting.
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     the generation the caller holds
-- ARGV[2]     TTL in milliseconds for all the meeting's keys
-- ARGV[3..]   field, value, field, value, ...
-- Reply       {'ok'} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current then
  return {'fenced', current}
end
hset_pairs(KEYS[3], 3)
touch(KEYS, ARGV[2])
return {'ok'}
