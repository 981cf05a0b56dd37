-- claim: take ownership of a meeting by moving its fencing generation to generation + 1.
-- Every later write of the previous owner (which holds the old generation) is fenced out.
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     TTL in milliseconds for all the meeting's keys
-- ARGV[2]     the generation the assignment expects, or '' for none: a stored generation
--             above it means the assignment is older than the stored state
-- Reply       {'ok', new_generation} | {'stale', current}
if ARGV[2] ~= '' then
  local current = current_generation(KEYS[1])
  if current > tonumber(ARGV[2]) then
    return {'stale', current}
  end
end
local generation = redis.call('INCR', KEYS[1])
touch(KEYS, ARGV[1])
return {'ok', generation}
