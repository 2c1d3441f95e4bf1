-- group_save.lua: replace a consumer group's state if its generation is as expected.
-- KEYS     subscriptions hash, the group key
-- ARGV     subscription, expected generation, new generation, state (JSON)
-- Returns  {'OK'}, {'NOSUB'} or {'CONFLICT', current generation}
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return {'NOSUB'} end
local current = tonumber(redis.call('HGET', KEYS[2], 'gen') or '0')
if current ~= tonumber(ARGV[2]) then return {'CONFLICT', current} end
redis.call('HSET', KEYS[2], 'gen', ARGV[3], 'state', ARGV[4])
return {'OK'}
