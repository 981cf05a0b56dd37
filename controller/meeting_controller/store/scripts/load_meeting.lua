-- load_meeting: read everything stored for a meeting in one atomic snapshot (read-only),
-- for an MC that takes the meeting over.
--
-- KEYS[1..4]  generation, mh, state, participants
-- Reply       {generation (0 = none), mh JSON or nil, {field, value, ...}, {participant, ...}}
return {
  current_generation(KEYS[1]),
  redis.call('GET', KEYS[2]),
  redis.call('HGETALL', KEYS[3]),
  redis.call('SMEMBERS', KEYS[4]),
}
