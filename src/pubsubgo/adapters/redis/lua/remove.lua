-- remove.lua: delete given messages of one slot group.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, then pairs of partition and entry id
-- Returns  how many were stored
local pre = ARGV[1]
local removed = 0
for i = 2, #ARGV, 2 do
  local p, id = ARGV[i], ARGV[i + 1]
  local entry = read_entry(pre, p, id)
  if entry then
    redis.call('XDEL', k_lane(pre, p, lane_of(id)), id)
    redis.call('HINCRBY', k_meta(pre, p), 'c', -1)
    redis.call('HINCRBY', k_meta(pre, p), 'b', -#fields(entry[2]).d)
    removed = removed + 1
  end
end
return removed
