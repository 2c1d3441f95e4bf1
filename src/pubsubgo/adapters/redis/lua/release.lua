-- release.lua: return in-flight deliveries of one slot group to their schedules.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, undo ('1': the claim is taken back before anyone saw it, so the
--          attempt does not count), then pairs of ack id and due time
-- Returns  per pair, in order: 1 if released, 0 if it was not in flight
local pre, sub, g, undo = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
local inf, dl, own = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl'), k_sub(pre, g, sub, 'own')
local outcome, released, counts = {}, {}, {}

for i = 5, #ARGV, 2 do
  local ack, due = ARGV[i], ARGV[i + 1]
  local raw = redis.call('HGET', inf, ack)
  if raw then
    local r = cjson.decode(raw)
    local ref = ref_of(r[2])
    redis.call('HDEL', inf, ack)
    counts[r[5]] = (counts[r[5]] or 0) + 1
    -- The key of an ordered subscription stays busy: this message is still its next one.
    redis.call('ZADD', k_sub(pre, r[1], sub, 'sch'), due, ref)
    local made = undo and r[3] - 1 or r[3]
    if made > 0 then
      redis.call('HSET', k_sub(pre, r[1], sub, 'att'), ref, made)
    else
      redis.call('HDEL', k_sub(pre, r[1], sub, 'att'), ref)
    end
    released[#released + 1] = ack
  end
  outcome[#outcome + 1] = raw and 1 or 0
end
if #released > 0 then call_chunked('ZREM', dl, released) end
unhold(own, counts)
return outcome
