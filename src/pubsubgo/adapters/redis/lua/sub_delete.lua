-- sub_delete.lua: unregister a subscription and its group.
-- KEYS     subscriptions hash, the subscription's group key, its members key
-- ARGV     subscription
-- Returns  the subscription's record, or false if there was none
local record = redis.call('HGET', KEYS[1], ARGV[1])
if not record then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2], KEYS[3])
return record
