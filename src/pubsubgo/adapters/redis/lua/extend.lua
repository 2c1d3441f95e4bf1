-- extend.lua: move the deadline of in-flight deliveries of one slot group.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, deadline, ack id...
-- Returns  per ack id, in order: 1 if extended, 0 if it was not in flight
local pre, sub, g, deadline = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local inf, dl = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl')
local outcome = {}

for i = 5, #ARGV do
  local ack = ARGV[i]
  local raw = redis.call('HGET', inf, ack)
  if raw then
    local r = cjson.decode(raw)
    r[4] = deadline
    redis.call('HSET', inf, ack, cjson.encode(r))
    redis.call('ZADD', dl, deadline, ack)
  end
  outcome[#outcome + 1] = raw and 1 or 0
end
return outcome
