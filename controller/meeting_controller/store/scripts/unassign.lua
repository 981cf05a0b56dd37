-- unassign: roll back a failed assignment of an owned meeting.
--
-- Removes the MH assignment, the metadata and the participant set. The generation key is
-- removed only when the caller holds generation 1, i.e. when the caller's own claim created
-- it: the rollback of a meeting's first claim leaves the keyspace as it was before. After a
-- takeover (generation > 1) the generation stays (with a fresh TTL): lowering it would let the
-- previous owner's fenced-out writes through again.
--
-- A missing generation key means the meeting is already gone (a retried rollback, or
-- expiry): the rollback is then a no-op success, not a fencing failure, so it is idempotent.
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     the generation the caller holds
-- ARGV[2]     TTL in milliseconds for the kept generation key
-- Reply       {'ok'} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current and current ~= 0 then
  return {'fenced', current}
end
redis.call('DEL', KEYS[2], KEYS[3], KEYS[4])
if tonumber(ARGV[1]) == 1 then
  redis.call('DEL', KEYS[1])
else
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return {'ok'}
