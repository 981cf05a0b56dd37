-- delete_session: remove a participant session, fenced by its meeting's generation.
--
-- KEYS[1]     the meeting's generation key
-- KEYS[2]     the session key
-- ARGV[1]     the generation the caller holds
-- Reply       {'ok', deleted (1 or 0)} | {'fenced', current}
local current = fence(KEYS[1], ARGV[1])
if current then
  return {'fenced', current}
end
return {'ok', redis.call('DEL', KEYS[2])}
