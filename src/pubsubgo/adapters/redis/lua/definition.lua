-- definition.lua: a subscription's record with its topic's, in one round trip.
-- KEYS     subscriptions hash, topics hash
-- ARGV     subscription
-- Returns  {subscription record, topic record} (false for what is missing)
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return {false, false} end
return {record, redis.call('HGET', KEYS[2], cjson.decode(record).topic)}
