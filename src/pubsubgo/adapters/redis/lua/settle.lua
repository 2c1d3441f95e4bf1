-- settle.lua: acknowledge deliveries of one slot group.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, now, force ('1'/'0'), ordered ('1'/'0'), ack id...
-- Returns  per ack id, in order: its message's publish time if settled, else false
local pre, sub, g, now_s = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, force, ordered = tonumber(now_s), ARGV[5] == '1', ARGV[6] == '1'
local inf, dl, own = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl'), k_sub(pre, g, sub, 'own')
local outcome, gone, counts = {}, {}, {}

for i = 7, #ARGV do
  local ack = ARGV[i]
  local raw = redis.call('HGET', inf, ack)
  local r = raw and cjson.decode(raw)
  -- An exactly-once delivery past its deadline is refused: it will be redelivered.
  if r and (force or r[7] == 0 or now <= tonumber(r[4])) then
    redis.call('HDEL', inf, ack)
    gone[#gone + 1] = ack
    counts[r[5]] = (counts[r[5]] or 0) + 1
    if ordered and r[6] ~= cjson.null then release_key(pre, r[1], sub, r[6], now_s) end
    outcome[#outcome + 1] = r[8]
  else
    outcome[#outcome + 1] = false
  end
end
if #gone > 0 then call_chunked('ZREM', dl, gone) end
unhold(own, counts)
return outcome
