-- redeliver.lua: queue stored messages of one slot group for one subscription alone.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, ordered ('1'/'0'), then per message: partition, entry id, due, attempts
-- Returns  {'OK', message id queued...} or {'NOSUB'}
local pre, sub, g, ordered = ARGV[1], ARGV[2], ARGV[3], ARGV[4] == '1'
if redis.call('EXISTS', k_sub(pre, g, sub, 'cur')) == 0 then return {'NOSUB'} end
local reply = {'OK'}

for i = 5, #ARGV, 4 do
  local p, id, due, attempts = ARGV[i], ARGV[i + 1], ARGV[i + 2], tonumber(ARGV[i + 3])
  local entry = read_entry(pre, p, id)
  if entry then
    local key = ordered and fields(entry[2]).k or nil
    local ref = ref_of(id)
    if key and redis.call('SISMEMBER', k_sub(pre, p, sub, 'busy'), key) == 1 then
      -- The key's current message goes first; this one waits at the head of the line.
      redis.call('ZADD', k_sub(pre, p, sub, 'held'), 0, held_prefix(key) .. '0' .. ref)
    else
      if key then redis.call('SADD', k_sub(pre, p, sub, 'busy'), key) end
      redis.call('ZADD', k_sub(pre, p, sub, 'sch'), due, ref)
      if attempts > 0 then
        redis.call('HSET', k_sub(pre, p, sub, 'att'), ref, attempts)
      else
        redis.call('HDEL', k_sub(pre, p, sub, 'att'), ref)
      end
    end
    reply[#reply + 1] = p .. '-' .. id
  end
end
return reply
