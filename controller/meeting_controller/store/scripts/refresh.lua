-- refresh: re-extend the TTL of every key of an owned meeting, so that its state lives as
-- long as the meeting does (the owner calls this periodically) and expires once nobody does.
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     the generation the caller holds
-- ARGV[2]     TTL in milliseconds for all the meeting's keys
-- Reply       {'ok'} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current then
  return {'fenced', current}
end
touch(KEYS, ARGV[2])
return {'ok'}
