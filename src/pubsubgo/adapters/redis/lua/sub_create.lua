-- sub_create.lua: register a subscription of an existing topic.
-- KEYS     topics hash, subscriptions hash, the subscription's group key, its members key
-- ARGV     topic, subscription, record (JSON)
-- Returns  'OK', 'NOTOPIC' or 'EXISTS'
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 'NOTOPIC' end
if redis.call('HSETNX', KEYS[2], ARGV[2], ARGV[3]) == 0 then return 'EXISTS' end
redis.call('DEL', KEYS[3], KEYS[4])
return 'OK'
