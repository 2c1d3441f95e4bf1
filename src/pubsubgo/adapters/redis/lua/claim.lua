-- claim.lua: put up to ``limit`` ready messages of a slot group's partitions in flight.
-- KEYS[1]  the group's anchor, for routing
-- KEYS[2]  (single node, with a member) the consumer group's members index
-- ARGV     pre, sub, now, deadline, member ('' = none), limit, max in flight,
--          held outside this group, ordered ('1'/'0'), g, partition...
-- Returns  {'OK', {ack id, attempt, partition, entry id, fields}...}, {'NOSUB'}, or with
--          KEYS[2]: {'NOMEMBER'} (not in the group) or {'NOINDEX'} (no index: ask the group)
local pre, sub, now_s, deadline, member = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local now = tonumber(now_s)
local limit, max_in_flight, outside = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local ordered, g = ARGV[9] == '1', ARGV[10]
local parts = {}
for i = 11, #ARGV do parts[#parts + 1] = ARGV[i] end

if redis.call('EXISTS', k_sub(pre, g, sub, 'cur')) == 0 then return {'NOSUB'} end
-- A member that left or was evicted claims nothing: checked here rather than by reading the
-- group before each pull, which cost a round trip per pull of every streaming consumer.
if KEYS[2] and member ~= '' then
  local index = redis.call('HMGET', KEYS[2], '', member)
  if not index[1] then return {'NOINDEX'} end
  if not index[2] then return {'NOMEMBER'} end
end
local own = k_sub(pre, g, sub, 'own')
local budget = math.min(limit, max_in_flight - outside - tonumber(redis.call('HGET', own, member) or '0'))
-- What is handed out, as parallel arrays (a table per delivery costs more than the rest):
-- partition, stream entry, delivery attempt.
local out, out_entry, out_attempt = {}, {}, {}

local function hand_out(p, entry, attempt)
  local i = #out + 1
  out[i], out_entry[i], out_attempt[i] = p, entry, attempt
end

local function is_delayed(f) return f.w and tonumber(f.w) > now end

-- An entry with only the fields every message has ('n', 't', 'd', written in that order
-- by append.lua) sets no option: no key, delay, mode. Most entries are such, and need no
-- table of their fields.
local function is_plain(flat) return #flat == 6 end

-- Redeliveries due by now, earliest due first; messages trimmed meanwhile are skipped.
local function claim_scheduled(p, stop_at)
  local sch, att = k_sub(pre, p, sub, 'sch'), k_sub(pre, p, sub, 'att')
  while #out < stop_at do
    local refs = redis.call('ZRANGEBYSCORE', sch, '-inf', now_s, 'LIMIT', 0, stop_at - #out)
    if #refs == 0 then return end
    for _, ref in ipairs(refs) do
      local attempts = tonumber(redis.call('HGET', att, ref) or '0')
      local entry = read_entry(pre, p, id_of(ref))
      if entry then hand_out(p, entry, attempts + 1) end
    end
    call_chunked('ZREM', sch, refs)
    call_chunked('HDEL', att, refs)
  end
end

-- A partition's lane counters and the subscription's cursors in it, read once per claim
-- (two calls, not two per lane): a lane whose appended count is the position last read has
-- nothing unread, and costs no XRANGE.
local reading = {}
local function reading_of(p)
  local lanes = reading[p]
  if not lanes then
    local appended = redis.call('HMGET', k_meta(pre, p), 'a0', 'a1', 'a2', 'a3')
    local cur = redis.call('HMGET', k_sub(pre, p, sub, 'cur'),
      'i0', 'r0', 'i1', 'r1', 'i2', 'r2', 'i3', 'r3')
    lanes = {}
    for rank = 0, 3 do
      lanes[rank] = {
        appended = tonumber(appended[rank + 1] or '0'),
        cursor = cur[2 * rank + 1] or '0-0',
        read = tonumber(cur[2 * rank + 2] or '0'),
      }
    end
    reading[p] = lanes
  end
  return lanes
end

-- Unread messages of one lane in publish order; delayed ones go to the schedule.
local function claim_lane(p, rank, stop_at)
  local state = reading_of(p)[rank]
  if state.read >= state.appended then return end
  local cur, lane = k_sub(pre, p, sub, 'cur'), k_lane(pre, p, rank)
  local cursor = state.cursor
  local position = nil
  while #out < stop_at do
    local batch = redis.call('XRANGE', lane, '(' .. cursor, '+', 'COUNT', stop_at - #out)
    if #batch == 0 then break end
    for _, entry in ipairs(batch) do
      local flat = entry[2]
      cursor = entry[1]
      if is_plain(flat) then
        position = flat[2]
        hand_out(p, entry, 1)
      else
        local f = fields(flat)
        position = f.n
        if is_delayed(f) then
          redis.call('ZADD', k_sub(pre, p, sub, 'sch'), f.w, ref_of(entry[1]))
        else
          hand_out(p, entry, 1)
        end
      end
    end
  end
  if position then
    redis.call('HSET', cur, 'i' .. rank, cursor, 'r' .. rank, position)
    state.cursor, state.read = cursor, tonumber(position)
  end
end

-- Ordered: merge the lanes' heads by publish order; one message in flight per key.
local function next_in_order(lanes)
  local best, best_s = nil, nil
  for rank = 0, 3 do
    local entry = lanes[rank].peek()
    if entry then
      local _, s = id_parts(entry[1])
      if not best_s or s < best_s then best, best_s = rank, s end
    end
  end
  return best
end

local function claim_in_order(p, stop_at)
  local cur, busy, held = k_sub(pre, p, sub, 'cur'), k_sub(pre, p, sub, 'busy'), k_sub(pre, p, sub, 'held')
  local lanes, positions = {}, {}
  for rank = 0, 3 do
    lanes[rank] = lane_reader(k_lane(pre, p, rank), redis.call('HGET', cur, 'i' .. rank) or '0-0')
  end
  while #out < stop_at do
    local rank = next_in_order(lanes)
    if not rank then break end
    local entry = lanes[rank].take()
    local f = fields(entry[2])
    positions[rank] = f.n
    local ref = ref_of(entry[1])
    if f.k and redis.call('SISMEMBER', busy, f.k) == 1 then
      redis.call('ZADD', held, 0, held_prefix(f.k) .. '1' .. ref)
    else
      if f.k then redis.call('SADD', busy, f.k) end
      if is_delayed(f) then
        redis.call('ZADD', k_sub(pre, p, sub, 'sch'), f.w, ref)
      else
        hand_out(p, entry, 1)
      end
    end
  end
  for rank, position in pairs(positions) do
    redis.call('HSET', cur, 'i' .. rank, lanes[rank].cursor, 'r' .. rank, position)
  end
end

local function claim_partition(p, room)
  local stop_at = #out + room
  claim_scheduled(p, stop_at)
  if #out >= stop_at then return end
  if ordered then
    claim_in_order(p, stop_at)
  else
    for rank = 3, 0, -1 do
      if #out >= stop_at then return end
      claim_lane(p, rank, stop_at)
    end
  end
end

if budget <= 0 then return {'OK'} end
-- A first pass gives each partition a fair share; a second fills what is left.
local share = math.max(1, math.ceil(budget / #parts))
for _, quota in ipairs({share, budget}) do
  for _, p in ipairs(parts) do
    local room = math.min(quota, budget - #out)
    if room > 0 then claim_partition(p, room) end
  end
end
if #out == 0 then return {'OK'} end

-- Each delivery gets a new ack id: "<partition>.<hex>" from the group's counter.
local last = redis.call('HINCRBY', k_meta(pre, g), 'k', #out)
local inf, dl = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl')
local fmt, member_json = string.format, cjson.encode(member)
-- The record of a plain delivery (no key, not exactly once), as record() in common.lua
-- writes it, formatted directly: cjson is the costliest step of a claim otherwise.
local function plain_record(p, id, attempt, t)
  return fmt('[%d,"%s",%d,"%s",%s,null,0,"%s"]', p, id, attempt, deadline, member_json, t)
end
local records, deadlines, reply = {}, {}, {'OK'}
local first = last - #out
for i = 1, #out do
  local p, entry, attempt = out[i], out_entry[i], out_attempt[i]
  local ack = fmt('%s.%x', p, first + i)
  local flat = entry[2]
  if is_plain(flat) then
    records[2 * i] = plain_record(p, entry[1], attempt, flat[4])
  else
    local f = fields(flat)
    local key = ordered and f.k or nil
    local eo = f.m == 'exactly_once' and 1 or 0
    records[2 * i] = record(p, entry[1], attempt, deadline, member, key, eo, f.t)
  end
  records[2 * i - 1] = ack
  deadlines[2 * i - 1], deadlines[2 * i] = deadline, ack
  reply[i + 1] = {ack, attempt, tonumber(p), entry[1], flat}
end
call_chunked('HSET', inf, records)
call_chunked('ZADD', dl, deadlines)
redis.call('HINCRBY', own, member, #out)
return reply
