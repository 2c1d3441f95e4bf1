-- group_save.lua: replace a consumer group's state if its generation is as expected.
-- KEYS     subscriptions hash, the group key, the group's members key
-- ARGV     subscription, expected generation, new generation, state (JSON), member id...
-- Returns  {'OK'}, {'NOSUB'} or {'CONFLICT', current generation}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {'NOSUB'} end
local current = tonumber(redis.call('HGET', KEYS[2], 'gen') or '0')
if current ~= tonumber(ARGV[2]) then return {'CONFLICT', current} end
redis.call('HSET', KEYS[2], 'gen', ARGV[3], 'state', ARGV[4])
-- The members index changes only with the generation (a heartbeat keeps both), so a
-- heartbeat costs no rewrite of it; the empty field marks an index that exists.
if current ~= tonumber(ARGV[3]) or redis.call('EXISTS', KEYS[3]) == 0 then
  redis.call('DEL', KEYS[3])
  local fields = {'', ARGV[3]}
  for i = 5, #ARGV do
    fields[#fields + 1] = ARGV[i]
    fields[#fields + 1] = '1'
  end
  call_chunked('HSET', KEYS[3], fields)
end
return {'OK'}
