-- sub_stats.lua: how far behind a subscription is in one slot group.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, partition...
-- Returns  {unread, scheduled, in flight, oldest unacked publish time or ''}
-- Cost: O(scheduled + in flight) of the group; meant for describe, not for a hot path.
local pre, sub, g = ARGV[1], ARGV[2], ARGV[3]
local unread, scheduled, oldest = 0, 0, nil

local function older(t)
  t = tonumber(t)
  if t and (not oldest or t < oldest) then oldest = t end
end

local function oldest_ref(refs, pick)
  local best = nil
  for _, member in ipairs(refs) do
    local ref = pick(member)
    if not best or ref < best then best = ref end
  end
  return best
end

for i = 4, #ARGV do
  local p = ARGV[i]
  local meta = k_meta(pre, p)
  local cur = fields(redis.call('HGETALL', k_sub(pre, p, sub, 'cur')))
  for rank = 0, 3 do
    local lane = k_lane(pre, p, rank)
    -- Lane positions count every message appended, so head trims cannot skew the count.
    local behind = tonumber(redis.call('HGET', meta, 'a' .. rank) or '0') - tonumber(cur['r' .. rank] or '0')
    unread = unread + math.max(0, math.min(behind, redis.call('XLEN', lane)))
    local next_unread = redis.call('XRANGE', lane, '(' .. (cur['i' .. rank] or '0-0'), '+', 'COUNT', 1)[1]
    if next_unread then older(fields(next_unread[2]).t) end
  end
  local sch, held = k_sub(pre, p, sub, 'sch'), k_sub(pre, p, sub, 'held')
  scheduled = scheduled + redis.call('ZCARD', sch) + redis.call('ZCARD', held)
  local first = oldest_ref(redis.call('ZRANGE', sch, 0, -1), function(m) return m end)
  local first_held = oldest_ref(redis.call('ZRANGE', held, 0, -1), held_ref)
  for _, ref in ipairs({first or false, first_held or false}) do
    local entry = ref and read_entry(pre, p, id_of(ref))
    if entry then older(fields(entry[2]).t) end
  end
end

local inf = k_sub(pre, g, sub, 'inf')
for _, raw in ipairs(redis.call('HVALS', inf)) do older(cjson.decode(raw)[8]) end
return {unread, scheduled, redis.call('HLEN', inf), oldest and string.format('%.17g', oldest) or ''}
