-- topic_update.lua: replace an existing topic's record (its settings), never create one.
-- KEYS[1]  the topics hash
-- ARGV     name, record
-- Returns  1, or 0 when no such topic
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
