-- trim.lua: delete the messages of a slot group published before a time (retention).
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, published before, most to remove in this call, partition...
-- Returns  how many were removed
-- Each lane is trimmed from its head while heads are older, like a log's retention; one
-- call removes at most the given number, so the duty's next round does the rest.
local pre, before, most = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local removed = 0

local function trim_lane(p, rank)
  local lane = k_lane(pre, p, rank)
  local last, n, bytes, from = nil, 0, 0, '-'
  while removed + n < most do
    local batch = redis.call('XRANGE', lane, from, '+', 'COUNT', math.min(256, most - removed - n))
    if #batch == 0 then break end
    for _, entry in ipairs(batch) do
      local f = fields(entry[2])
      if tonumber(f.t) >= before then batch = nil break end
      last, n, bytes, from = entry[1], n + 1, bytes + #f.d, '(' .. entry[1]
    end
    if not batch then break end
  end
  if n == 0 then return end
  local ms, s = id_parts(last)
  redis.call('XTRIM', lane, 'MINID', int(ms) .. '-' .. int(s + 1))
  redis.call('HINCRBY', k_meta(pre, p), 'c', -n)
  redis.call('HINCRBY', k_meta(pre, p), 'b', -bytes)
  removed = removed + n
end

for i = 4, #ARGV do
  for rank = 0, 3 do trim_lane(ARGV[i], rank) end
end
return removed
