-- browse.lua: up to ``limit`` stored messages of a slot group in publish order, partition
-- by partition, after a given entry of the first partition.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, after entry id ('' for the start), limit, partition...
-- Returns  {{partition, entry id, fields}...}
local pre, after, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local found = {}

-- One partition: read each lane from its start, then merge the lanes by publish order.
local function browse_partition(p, start)
  local merged = {}
  for rank = 0, 3 do
    local from = start == '' and '-' or ('(' .. start)
    for _, entry in ipairs(redis.call('XRANGE', k_lane(pre, p, rank), from, '+', 'COUNT', limit - #found)) do
      local _, s = id_parts(entry[1])
      merged[#merged + 1] = {s, entry}
    end
  end
  table.sort(merged, function(a, b) return a[1] < b[1] end)
  for _, item in ipairs(merged) do
    if #found >= limit then return end
    found[#found + 1] = {tonumber(p), item[2][1], item[2][2]}
  end
end

for i = 4, #ARGV do
  if #found >= limit then break end
  browse_partition(ARGV[i], i == 4 and after or '')
end
return found
