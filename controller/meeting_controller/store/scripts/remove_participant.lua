-- remove_participant: remove a participant id from the participant set of an owned meeting.
-- (Redis deletes the set when its last member goes.)
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     the generation the caller holds
-- ARGV[2]     TTL in milliseconds for all the meeting's keys
-- ARGV[3]     participant id
-- Reply       {'ok', removed (1 or 0)} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current then
  return {'fenced', current}
end
local removed = redis.call('SREM', KEYS[4], ARGV[3])
touch(KEYS, ARGV[2])
return {'ok', removed}
