-- fetch.lua: stored messages of one slot group by id.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, then pairs of partition and entry id
-- Returns  {{partition, entry id, fields}...} for the ids still stored
local pre = ARGV[1]
local found = {}
for i = 2, #ARGV, 2 do
  local p, id = ARGV[i], ARGV[i + 1]
  local entry = read_entry(pre, p, id)
  if entry then found[#found + 1] = {tonumber(p), entry[1], entry[2]} end
end
return found
