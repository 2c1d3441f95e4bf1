-- append.lua: store a batch of messages in one slot group, atomically.
-- KEYS[1]  the group's anchor (meta of partition g), for routing
-- ARGV     pre, g, dedup window, max messages (0 = unbounded), overflow,
--          first partition, partition count (of the group), heads, data...
-- heads    one binary string with a head per draft: '>HBBI4' (partition, rank, length of
--          the publish time, length of the options), the publish time, the options. The
--          options, empty for a plain message, are seven fields each a '>I4' length and
--          bytes: key ('' none, '+' .. key), attributes JSON, mode ('' at least once),
--          expires at, deliver at, dedup id, compression
-- data     one argument per draft, in order: its payload. Payloads travel as arguments of
--          their own (not inside ``heads``) because every string Lua makes costs time per
--          byte: an argument becomes a Lua string once and goes to XADD as it is.
-- Returns  {'OK', id...} one id per draft; {'NOTOPIC'}; {'FULL'}
local pre, g = ARGV[1], ARGV[2]
local window, max_messages = tonumber(ARGV[3]), tonumber(ARGV[4])
local drop_oldest = ARGV[5] == 'drop_oldest'
local first, count = tonumber(ARGV[6]), tonumber(ARGV[7])
local DATA = 8 -- ARGV[DATA + i] is draft i's payload

local OPTIONAL = {'k', 'a', 'm', 'x', 'w', 'u', 'c'}
-- Drafts as parallel arrays (a table per draft costs more than the rest of its parsing);
-- opts[i] only for drafts with options, U[i] the dedup id ('' for none).
local P, R, T, opts, U = {}, {}, {}, {}, {}
local function read_heads(heads)
  local pos, size, n = 1, #heads, 0
  while pos <= size do
    local p, rank, tl, ol = struct.unpack('>HBBI4', heads, pos)
    n = n + 1
    pos = pos + 8
    P[n], R[n], T[n], U[n] = p, rank, string.sub(heads, pos, pos + tl - 1), ''
    pos = pos + tl
    if ol > 0 then
      local options, at, o = string.sub(heads, pos, pos + ol - 1), 1, {}
      for _, name in ipairs(OPTIONAL) do o[name], at = struct.unpack('>I4c0', options, at) end
      opts[n], U[n] = o, o.u
      pos = pos + ol
    end
  end
  return n
end
local n = read_heads(ARGV[8])

if redis.call('EXISTS', k_meta(pre, g)) == 0 then return {'NOTOPIC'} end

-- Resolve duplicates: slot[i] is an existing id, or the index of a fresh draft.
local dd, ddx = k_dedup(pre, g), k_dedupx(pre, g)
local function forget_closed_windows(now_s)
  local closed = redis.call('ZRANGEBYSCORE', ddx, '-inf', now_s, 'LIMIT', 0, 1000)
  if #closed > 0 then
    call_chunked('HDEL', dd, closed)
    call_chunked('ZREM', ddx, closed)
  end
end

local slot, fresh, seen = {}, {}, {}
if window > 0 and n > 0 then forget_closed_windows(T[1]) end
for i = 1, n do
  local u = U[i]
  if window > 0 and u ~= '' then
    if seen[u] then
      slot[i] = seen[u]
    else
      local rec = redis.call('HGET', dd, u)
      if rec then
        local id, expires = string.match(rec, '^(%S+) (%S+)$')
        if tonumber(expires) > tonumber(T[i]) then slot[i] = id end
      end
    end
  end
  if not slot[i] then
    fresh[#fresh + 1] = i
    slot[i] = #fresh
    if window > 0 and u ~= '' then seen[u] = #fresh end
  end
end

-- Capacity: bounded topics are co-located, so this group holds the whole topic.
local stored = 0
if max_messages > 0 then
  for p = first, first + count - 1 do
    stored = stored + tonumber(redis.call('HGET', k_meta(pre, p), 'c') or '0')
  end
  if not drop_oldest and stored + #fresh > max_messages then return {'FULL'} end
end

-- Partition counters are read once, kept here during the batch, and written back once.
-- Besides them a partition's entry holds what its messages reuse: its lane keys and the
-- prefix of its ids, and how many messages the batch added.
local metas = {}
local META_FIELDS = {'o', 'lm', 'c', 'b', 'pc', 'a0', 'a1', 'a2', 'a3'}
local LAST_FIELDS = {'l0', 'l1', 'l2', 'l3'}
local function meta_of(p)
  local m = metas[p]
  if not m then
    local values = redis.call('HMGET', k_meta(pre, p), unpack(META_FIELDS))
    m = {lanes = {}, prefix = p .. '-', added = 0}
    for j, name in ipairs(META_FIELDS) do m[name] = tonumber(values[j] or '0') end
    for rank = 0, 3 do m.lanes[rank + 1] = k_lane(pre, p, rank) end
    metas[p] = m
  end
  return m
end

local function xadd_with_options(key, id, position, t, d, o)
  local args = {'XADD', key, id, 'n', position, 't', t, 'd', d}
  for _, name in ipairs(OPTIONAL) do
    local value = o[name]
    if value ~= '' then
      if name == 'k' then value = string.sub(value, 2) end
      args[#args + 1] = name
      args[#args + 1] = value
    end
  end
  redis.call(unpack(args))
end

-- Runs once per message: kept to table lookups and one XADD.
local fmt, floor = string.format, math.floor
local LANE_COUNT = {'a0', 'a1', 'a2', 'a3'}
local last_t, last_ms = nil, 0 -- drafts of a batch share their publish time: parse it once
local function store(i)
  local p, rank, t, d = P[i], R[i], T[i], ARGV[DATA + i]
  local m = metas[p] or meta_of(p)
  if t ~= last_t then last_t, last_ms = t, floor(tonumber(t) * 1000) end
  if last_ms > m.lm then m.lm = last_ms end
  local o = m.o + 1
  local id = fmt('%d-%d', m.lm, o * 4 + rank)
  local counter = LANE_COUNT[rank + 1]
  local position = m[counter] + 1
  m.o, m[counter], m.added, m.b = o, position, m.added + 1, m.b + #d
  m[LAST_FIELDS[rank + 1]] = id
  if opts[i] then
    xadd_with_options(m.lanes[rank + 1], id, position, t, d, opts[i])
  else
    redis.call('XADD', m.lanes[rank + 1], id, 'n', position, 't', t, 'd', d)
  end
  return m.prefix .. id
end

local ids = {}
for j, i in ipairs(fresh) do
  ids[j] = store(i)
  local u = U[i]
  if window > 0 and u ~= '' then
    local expires = tonumber(T[i]) + window
    redis.call('HSET', dd, u, ids[j] .. ' ' .. string.format('%.17g', expires))
    redis.call('ZADD', ddx, expires, u)
  end
end

-- Every partition a draft went to records when it was last published to.
for i = 1, n do meta_of(P[i]).lp = T[i] end
for p, m in pairs(metas) do
  m.c, m.pc = m.c + m.added, m.pc + m.added
  local args = {'HSET', k_meta(pre, p), 'lp', m.lp}
  for _, name in ipairs(META_FIELDS) do
    args[#args + 1] = name
    args[#args + 1] = int(m[name])
  end
  for _, name in ipairs(LAST_FIELDS) do
    if m[name] then
      args[#args + 1] = name
      args[#args + 1] = m[name]
    end
  end
  redis.call(unpack(args))
end

-- drop_oldest: remove the oldest messages by publish time (then partition, then publish
-- order) until the topic is back at its bound, reading every lane from its head.
local function lane_heads()
  local lanes = {}
  for p = first, first + count - 1 do
    for rank = 0, 3 do
      lanes[#lanes + 1] = {p = p, reader = lane_reader(k_lane(pre, p, rank), '0-0'), n = 0, b = 0}
    end
  end
  return lanes
end

local function head_of(lane)
  local entry = lane.reader.peek()
  if entry and entry ~= lane.entry then
    local f = fields(entry[2])
    local _, s = id_parts(entry[1])
    lane.entry, lane.t, lane.s, lane.size = entry, tonumber(f.t), s, #f.d
  end
  return entry
end

local function older(a, b)
  if a.t ~= b.t then return a.t < b.t end
  if a.p ~= b.p then return a.p < b.p end
  return a.s < b.s
end

local function drop(excess)
  local lanes = lane_heads()
  for _ = 1, excess do
    local best = nil
    for _, lane in ipairs(lanes) do
      if head_of(lane) and (not best or older(lane, best)) then best = lane end
    end
    if not best then break end
    best.reader.take()
    best.n, best.b = best.n + 1, best.b + best.size
  end
  for _, lane in ipairs(lanes) do
    if lane.n > 0 then
      local ms, s = id_parts(lane.reader.cursor)
      redis.call('XTRIM', lane.reader.key, 'MINID', int(ms) .. '-' .. int(s + 1))
      redis.call('HINCRBY', k_meta(pre, lane.p), 'c', -lane.n)
      redis.call('HINCRBY', k_meta(pre, lane.p), 'b', -lane.b)
    end
  end
end

if max_messages > 0 and drop_oldest and stored + #fresh > max_messages then
  drop(stored + #fresh - max_messages)
end

local reply = {'OK'}
for i = 1, n do
  reply[i + 1] = type(slot[i]) == 'number' and ids[slot[i]] or slot[i]
end
return reply
