-- overdue.lua: in-flight deliveries of one slot group whose deadline is before now.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, now, limit
-- Returns  {ack id, record, ack id, record, ...}, earliest deadline first
local pre, sub, g, now_s, limit = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
local inf, dl = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl')
local acks = redis.call('ZRANGEBYSCORE', dl, '-inf', '(' .. now_s, 'LIMIT', 0, limit)
if #acks == 0 then return {} end
local raws = redis.call('HMGET', inf, unpack(acks))
local reply = {}
for i, ack in ipairs(acks) do
  if raws[i] then
    reply[#reply + 1] = ack
    reply[#reply + 1] = raws[i]
  end
end
return reply
