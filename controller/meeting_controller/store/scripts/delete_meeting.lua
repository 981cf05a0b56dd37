-- delete_meeting: remove every key of an owned meeting when the meeting ends.
-- Without the generation key, every later write of any former owner is fenced out.
--
-- A missing generation key means the meeting is already gone (a retried delete, or expiry):
-- the delete is then a no-op success, not a fencing failure, so it is idempotent.
--
-- KEYS[1..4]  generation, mh, state, participants
-- ARGV[1]     the generation the caller holds
-- Reply       {'ok'} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current and current ~= 0 then
  return {'fenced', current}
end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4])
return {'ok'}
