-- common.lua: helpers every script shares; scripts.py puts it in front of each script.
--
-- Key names mirror keys.py (tests/redis/test_keys.py checks that they agree). A script is
-- called with one slot group's key prefix ("psg:{t:<topic>...}:") and builds the names of
-- that group's keys from it, so every key it touches shares the routing key's slot.
-- Times arrive as decimal strings from the caller's clock; no script reads Redis TIME.

local function k_meta(pre, p) return pre .. p .. ':meta' end
local function k_lane(pre, p, rank) return pre .. p .. ':l' .. rank end
local function k_dedup(pre, g) return pre .. g .. ':dd' end
local function k_dedupx(pre, g) return pre .. g .. ':ddx' end
local function k_bounds(pre, g) return pre .. g .. ':bnd' end
local function k_sub(pre, p, sub, part) return pre .. p .. ':s:' .. sub .. ':' .. part end

-- Integers as digits: Lua's own number-to-string switches to exponents past 1e14.
local function int(n) return string.format('%d', n) end

-- An entry id is "<ms>-<s>" with s = order * 4 + rank: publish order within the
-- partition, and the priority lane in the low two bits.
local function id_parts(id)
  local ms, s = string.match(id, '^(%d+)-(%d+)$')
  return tonumber(ms), tonumber(s)
end

local function lane_of(id)
  local _, s = id_parts(id)
  return s % 4
end

-- Sorted-set members name entries by their zero-padded order first, so that members with
-- equal scores come out in publish order.
local function ref_of(id)
  local ms, s = id_parts(id)
  return string.format('%016d', s) .. '@' .. int(ms)
end

local function id_of(ref)
  return string.sub(ref, 18) .. '-' .. int(tonumber(string.sub(ref, 1, 16)))
end

local function fields(flat)
  local f = {}
  for i = 1, #flat, 2 do f[flat[i]] = flat[i + 1] end
  return f
end

local function read_entry(pre, p, id)
  return redis.call('XRANGE', k_lane(pre, p, lane_of(id)), id, id)[1]
end

-- Reads one lane in order from just after ``cursor``, through a small buffer:
-- peek() is the next entry (or nil at the end), take() consumes it.
local function lane_reader(key, cursor)
  local reader = {key = key, cursor = cursor, buf = {}, i = 1, done = false}
  function reader.peek()
    if reader.i > #reader.buf then
      if reader.done then return nil end
      reader.buf, reader.i = redis.call('XRANGE', key, '(' .. reader.cursor, '+', 'COUNT', 32), 1
      if #reader.buf == 0 then
        reader.done = true
        return nil
      end
    end
    return reader.buf[reader.i]
  end
  function reader.take()
    local entry = reader.peek()
    reader.i, reader.cursor = reader.i + 1, entry[1]
    return entry
  end
  return reader
end

-- Run one variadic command over a long list in slices: Lua cannot unpack ~8000 values.
local function call_chunked(command, key, list)
  for i = 1, #list, 4000 do
    redis.call(command, key, unpack(list, i, math.min(i + 3999, #list)))
  end
end

-- Ordered subscriptions hold a key's later messages in a sorted set whose members start
-- with the key's length and the key, so that one key's members form a lexical range.
-- Flag '0' sorts a member before the key's other held messages, '1' after.
local function held_prefix(key) return string.format('%08d', #key) .. key end
local function held_ref(member) return string.sub(member, 8 + tonumber(string.sub(member, 1, 8)) + 2) end

-- The key's current message is settled: schedule its next held message now, or free it.
local function release_key(pre, p, sub, key, now_s)
  local held = k_sub(pre, p, sub, 'held')
  local pfx = held_prefix(key)
  local first = redis.call('ZRANGEBYLEX', held, '[' .. pfx, '[' .. pfx .. '\255', 'LIMIT', 0, 1)[1]
  if first then
    redis.call('ZREM', held, first)
    redis.call('ZADD', k_sub(pre, p, sub, 'sch'), now_s, held_ref(first))
  else
    redis.call('SREM', k_sub(pre, p, sub, 'busy'), key)
  end
end

-- An in-flight record: {partition, entry id, attempt, deadline, member ('' = none),
-- key (ordered subscriptions only) or null, exactly once (0/1), published at}.
-- Times stay strings: cjson would round numbers to 14 digits.
local function record(p, id, attempt, deadline, member, key, eo, t)
  return cjson.encode({tonumber(p), id, attempt, deadline, member, key or cjson.null, eo, t})
end

-- Give back ``counts[member]`` holdings of the group's members.
local function unhold(own, counts)
  for member, n in pairs(counts) do
    if redis.call('HINCRBY', own, member, -n) <= 0 then redis.call('HDEL', own, member) end
  end
end
