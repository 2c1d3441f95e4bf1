-- position.lua: set a subscription's read position in a slot group's partitions and drop
-- what it had in flight or scheduled there (create and seek).
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, create ('1': start afresh, '0': seek an existing subscription),
--          target ('earliest', 'latest' or 'timestamp'), timestamp, bound (on create:
--          '<max_backlog> <overflow>' registered for publishes to check, '' for none),
--          partition...
-- Returns  'OK', 'NOSUB' (seek of a missing subscription) or 'NOTOPIC'
local pre, sub, g, create, target = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1', ARGV[5]
local stamp, bound = tonumber(ARGV[6]), ARGV[7]
if redis.call('EXISTS', k_meta(pre, g)) == 0 then return 'NOTOPIC' end
if not create and redis.call('EXISTS', k_sub(pre, g, sub, 'cur')) == 0 then return 'NOSUB' end

local function latest(p, rank)
  local meta = k_meta(pre, p)
  return redis.call('HGET', meta, 'l' .. rank) or '0-0', redis.call('HGET', meta, 'a' .. rank) or '0'
end

-- Just before the first entry published at or after the stamp: every candidate has an id
-- at or after the stamp's millisecond, since ids never run behind publish times.
local function at_stamp(p, rank)
  local lane = k_lane(pre, p, rank)
  local from = int(math.floor(stamp * 1000))
  while true do
    local batch = redis.call('XRANGE', lane, from, '+', 'COUNT', 64)
    if #batch == 0 then return latest(p, rank) end
    for _, entry in ipairs(batch) do
      local f = fields(entry[2])
      if tonumber(f.t) >= stamp then
        local ms, s = id_parts(entry[1])
        return int(ms) .. '-' .. int(s - 1), int(tonumber(f.n) - 1)
      end
      from = '(' .. entry[1]
    end
  end
end

if create and bound ~= '' then redis.call('HSET', k_bounds(pre, g), sub, bound) end

for i = 8, #ARGV do
  local p = ARGV[i]
  local cursors = {'HSET', k_sub(pre, p, sub, 'cur')}
  for rank = 0, 3 do
    local id, position = '0-0', '0'
    if target == 'latest' then
      id, position = latest(p, rank)
    elseif target == 'timestamp' then
      id, position = at_stamp(p, rank)
    end
    for _, v in ipairs({'i' .. rank, id, 'r' .. rank, position}) do cursors[#cursors + 1] = v end
  end
  for _, part in ipairs({'sch', 'att', 'busy', 'held'}) do redis.call('DEL', k_sub(pre, p, sub, part)) end
  redis.call(unpack(cursors))
end
for _, part in ipairs({'inf', 'dl', 'own'}) do redis.call('DEL', k_sub(pre, g, sub, part)) end
return 'OK'
