-- topic_init.lua: create the partitions of one slot group, empty.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, g, first ack id number, partition...
-- Leftovers of an interrupted delete under the same name are removed first.
local pre, g, ack_start = ARGV[1], ARGV[2], ARGV[3]
redis.call('DEL', k_dedup(pre, g), k_dedupx(pre, g), k_bounds(pre, g))
for i = 4, #ARGV do
  local p = ARGV[i]
  redis.call('DEL', k_meta(pre, p), k_lane(pre, p, 0), k_lane(pre, p, 1), k_lane(pre, p, 2), k_lane(pre, p, 3))
  redis.call('HSET', k_meta(pre, p), 'o', 0, 'lm', 0, 'c', 0, 'b', 0, 'pc', 0)
end
-- Ack ids count from a random start, so those of a deleted topic's subscriptions never
-- name a delivery of a new topic with the same name.
redis.call('HSET', k_meta(pre, g), 'k', ack_start)
return 'OK'
