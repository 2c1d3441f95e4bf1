-- claim.lua: put up to ``limit`` ready messages of a slot group's partitions in flight.
-- KEYS[1]  the group's anchor, for routing
-- KEYS[2]  (single node, with a member) the consumer group's members index
-- ARGV     pre, sub, now, deadline, member ('' = none), limit, max in flight,
--          held outside this group, ordered ('1'/'0'), g, partition...
-- Returns  {'OK', ack id, attempt, partition, entry id, fields, ...} (five values per
--          delivery, flat: a table per delivery costs more than the rest of its reply),
--          {'NOSUB'}, or with KEYS[2]: {'NOMEMBER'} (not in the group) or {'NOINDEX'} (no
--          index: ask the group)
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
if budget <= 0 then return {'OK'} end
-- What is handed out, as parallel arrays (a table per delivery costs more than the rest):
-- partition, stream entry, delivery attempt; ``n`` deliveries so far.
local out, out_entry, out_attempt = {}, {}, {}
local n = 0

local function hand_out(p, entry, attempt)
  n = n + 1
  out[n], out_entry[n], out_attempt[n] = p, entry, attempt
end

-- Whether any partition has a schedule at all (an empty sorted set does not exist): one
-- EXISTS over all of them, instead of a range query per partition and pass, which was
-- most of the cost of a claim that finds nothing. Retries and delays are the exception;
-- when there are some, each partition's schedule is queried as before. Delayed messages
-- this claim schedules are due later than now, so the answer holds for the whole claim.
-- (A topic has at most 256 partitions: one call.)
local schedules = {}
for i, p in ipairs(parts) do schedules[i] = k_sub(pre, p, sub, 'sch') end
local any_scheduled = redis.call('EXISTS', unpack(schedules)) > 0

local function is_delayed(f) return f.w and tonumber(f.w) > now end

-- An entry with only the fields every message has ('n', 't', 'd', written in that order
-- by append.lua) sets no option: no key, delay, mode. Most entries are such, and need no
-- table of their fields. (Checked inline as #flat == PLAIN: it runs once per message.)
local PLAIN = 6

-- Redeliveries due by now, earliest due first; messages trimmed meanwhile are skipped.
local function claim_scheduled(p, stop_at)
  if not any_scheduled then return end
  local sch, att = k_sub(pre, p, sub, 'sch'), k_sub(pre, p, sub, 'att')
  while n < stop_at do
    local refs = redis.call('ZRANGEBYSCORE', sch, '-inf', now_s, 'LIMIT', 0, stop_at - n)
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

-- A partition's lane counters and the subscription's positions in it, read once per claim
-- (at most two calls, not two per lane): a lane whose appended count is the position last
-- read has nothing unread, and costs no XRANGE. These reads are most of the cost of a
-- claim that finds nothing, and each field read counts, so only what can matter is read:
-- positions of lanes that ever had a message (most topics use one priority), and the
-- cursor's entry id only for a lane with something unread (cursor_of).
local reading = {}
local function reading_of(p)
  local lanes = reading[p]
  if not lanes then
    local appended = redis.call('HMGET', k_meta(pre, p), 'a0', 'a1', 'a2', 'a3')
    local used = {}
    lanes = {}
    for rank = 0, 3 do
      local count = tonumber(appended[rank + 1] or '0')
      lanes[rank] = {appended = count, read = 0, cursor = nil} -- cursor: see cursor_of
      if count > 0 then used[#used + 1] = rank end
    end
    if #used == 1 then
      local rank = used[1]
      lanes[rank].read = tonumber(redis.call('HGET', k_sub(pre, p, sub, 'cur'), 'r' .. rank) or '0')
    elseif #used > 1 then
      local names = {}
      for i, rank in ipairs(used) do names[i] = 'r' .. rank end
      local read = redis.call('HMGET', k_sub(pre, p, sub, 'cur'), unpack(names))
      for i, rank in ipairs(used) do lanes[rank].read = tonumber(read[i] or '0') end
    end
    reading[p] = lanes
  end
  return lanes
end

local function cursor_of(p, rank)
  local state = reading_of(p)[rank]
  if not state.cursor then
    state.cursor = redis.call('HGET', k_sub(pre, p, sub, 'cur'), 'i' .. rank) or '0-0'
  end
  return state.cursor
end

-- Unread messages of one lane in publish order; delayed ones go to the schedule.
local function claim_lane(p, rank, stop_at)
  local state = reading_of(p)[rank]
  if state.read >= state.appended then return end
  local cur, lane = k_sub(pre, p, sub, 'cur'), k_lane(pre, p, rank)
  local cursor = cursor_of(p, rank)
  local position = nil
  while n < stop_at do
    local wanted = stop_at - n
    local batch = redis.call('XRANGE', lane, '(' .. cursor, '+', 'COUNT', wanted)
    for _, entry in ipairs(batch) do
      local flat = entry[2]
      cursor = entry[1]
      if #flat == PLAIN then
        position = flat[2]
        n = n + 1
        out[n], out_entry[n], out_attempt[n] = p, entry, 1
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
    -- A short batch is the lane's end: asking again would only answer nothing.
    if #batch < wanted then break end
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
    local entry = lanes[rank] and lanes[rank].peek()
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
  local states = reading_of(p)
  for rank = 0, 3 do
    -- A lane with nothing unread (as in claim_lane) gets no reader, and costs no XRANGE.
    if states[rank].read < states[rank].appended then
      lanes[rank] = lane_reader(k_lane(pre, p, rank), cursor_of(p, rank))
    end
  end
  while n < stop_at do
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
    -- The next pass over this partition starts from here (reading_of keeps what it read).
    states[rank].cursor, states[rank].read = lanes[rank].cursor, tonumber(position)
  end
end

local function claim_partition(p, room)
  local stop_at = n + room
  claim_scheduled(p, stop_at)
  if n >= stop_at then return end
  if ordered then
    claim_in_order(p, stop_at)
  else
    for rank = 3, 0, -1 do
      if n >= stop_at then return end
      claim_lane(p, rank, stop_at)
    end
  end
end

-- A first pass gives each partition a fair share; a second fills what is left, from the
-- partitions that filled their share (one that did not has nothing more to give).
local share = math.max(1, math.ceil(budget / #parts))
local exhausted = {}
for _, quota in ipairs({share, budget}) do
  for _, p in ipairs(parts) do
    local room = math.min(quota, budget - n)
    if room > 0 and not exhausted[p] then
      local before = n
      claim_partition(p, room)
      if n - before < room then exhausted[p] = true end
    end
  end
end
if n == 0 then return {'OK'} end

-- Each delivery gets a new ack id: "<partition>.<hex>" from the group's counter.
local last = redis.call('HINCRBY', k_meta(pre, g), 'k', n)
local inf, dl = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl')
local fmt = string.format
-- The record of a plain delivery (no key, not exactly once), as record() in common.lua
-- writes it, assembled directly: cjson is the costliest step of a claim otherwise, and
-- concatenation is cheaper than string.format. Everything after the entry id up to the
-- publish time is the same for all first attempts of this claim: built once.
--   [<p>,"<entry id>",<attempt>,"<deadline>",<member>,null,0,"<publish time>"]
local after_attempt = ',"' .. deadline .. '",' .. cjson.encode(member) .. ',null,0,"'
local after_first = '",1' .. after_attempt
local records, deadlines, reply = {}, {}, {'OK'}
local first = last - n
for i = 1, n do
  local p, entry, attempt = out[i], out_entry[i], out_attempt[i]
  local ack = fmt('%s.%x', p, first + i)
  local id, flat = entry[1], entry[2]
  if #flat == PLAIN then
    local middle = attempt == 1 and after_first or ('",' .. int(attempt) .. after_attempt)
    records[2 * i] = '[' .. p .. ',"' .. id .. middle .. flat[4] .. '"]'
  else
    local f = fields(flat)
    local key = ordered and f.k or nil
    local eo = f.m == 'exactly_once' and 1 or 0
    records[2 * i] = record(p, id, attempt, deadline, member, key, eo, f.t)
  end
  records[2 * i - 1] = ack
  deadlines[2 * i - 1], deadlines[2 * i] = deadline, ack
  local at = 5 * i - 3
  reply[at], reply[at + 1], reply[at + 2], reply[at + 3], reply[at + 4] = ack, attempt, tonumber(p), id, flat
end
call_chunked('HSET', inf, records)
call_chunked('ZADD', dl, deadlines)
redis.call('HINCRBY', own, member, n)
return reply
