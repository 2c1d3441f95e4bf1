-- append.lua: store a batch of messages in one slot group, atomically.
-- KEYS[1]  the group's anchor (meta of partition g), for routing
-- ARGV     pre, g, dedup window, max messages (0 = unbounded), overflow,
--          first partition, partition count (of the group), drafts
-- drafts   one binary string (cheaper to send and to read than eleven arguments a message):
--          per draft a header '>HBBI4I4' (partition, rank, length of the publish time, of
--          the data, of the options), then the publish time, the data and the options. The
--          options, empty for a plain message, are seven fields each a '>I4' length and
--          bytes: key ('' none, '+' .. key), attributes JSON, mode ('' at least once),
--          expires at, deliver at, dedup id, compression
-- Returns  {'OK', id...} one id per draft; {'NOTOPIC'}; {'FULL'}
local pre, g = ARGV[1], ARGV[2]
local window, max_messages = tonumber(ARGV[3]), tonumber(ARGV[4])
local drop_oldest = ARGV[5] == 'drop_oldest'
local first, count = tonumber(ARGV[6]), tonumber(ARGV[7])

local OPTIONAL = {'k', 'a', 'm', 'x', 'w', 'u', 'c'}
local function read_drafts(blob)
  local drafts, pos, size = {}, 1, #blob
  while pos <= size do
    local p, rank, tl, dl, ol = struct.unpack('>HBBI4I4', blob, pos)
    pos = pos + 12
    local draft = {p = int(p), rank = rank, t = string.sub(blob, pos, pos + tl - 1)}
    draft.d = string.sub(blob, pos + tl, pos + tl + dl - 1)
    pos = pos + tl + dl
    for _, name in ipairs(OPTIONAL) do draft[name] = '' end
    if ol > 0 then
      local options, at = string.sub(blob, pos, pos + ol - 1), 1
      for _, name in ipairs(OPTIONAL) do draft[name], at = struct.unpack('>I4c0', options, at) end
      pos = pos + ol
    end
    drafts[#drafts + 1] = draft
  end
  return drafts
end
local drafts = read_drafts(ARGV[8])
local n = #drafts

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
if window > 0 and n > 0 then forget_closed_windows(drafts[1].t) end
for i = 1, n do
  local u = drafts[i].u
  if window > 0 and u ~= '' then
    if seen[u] then
      slot[i] = seen[u]
    else
      local rec = redis.call('HGET', dd, u)
      if rec then
        local id, expires = string.match(rec, '^(%S+) (%S+)$')
        if tonumber(expires) > tonumber(drafts[i].t) then slot[i] = id end
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
local metas = {}
local META_FIELDS = {'o', 'lm', 'c', 'b', 'pc', 'a0', 'a1', 'a2', 'a3'}
local function meta_of(p)
  local m = metas[p]
  if not m then
    local values = redis.call('HMGET', k_meta(pre, p), unpack(META_FIELDS))
    m = {}
    for j, name in ipairs(META_FIELDS) do m[name] = tonumber(values[j] or '0') end
    metas[p] = m
  end
  return m
end

local function store(draft)
  local p, rank, t, d = draft.p, draft.rank, draft.t, draft.d
  local m = meta_of(p)
  local ms = math.max(math.floor(tonumber(t) * 1000), m.lm)
  m.o = m.o + 1
  local id = int(ms) .. '-' .. int(m.o * 4 + rank)
  local lane = 'a' .. rank
  m[lane] = m[lane] + 1
  m.lm, m.c, m.b, m.pc = ms, m.c + 1, m.b + #d, m.pc + 1
  m['l' .. rank] = id
  local args = {'XADD', k_lane(pre, p, rank), id, 'n', m[lane], 't', t, 'd', d}
  for _, name in ipairs(OPTIONAL) do
    local value = draft[name]
    if value ~= '' then
      if name == 'k' then value = string.sub(value, 2) end
      args[#args + 1] = name
      args[#args + 1] = value
    end
  end
  redis.call(unpack(args))
  return p .. '-' .. id
end

local ids = {}
for j, i in ipairs(fresh) do
  local draft = drafts[i]
  ids[j] = store(draft)
  local u = draft.u
  if window > 0 and u ~= '' then
    local expires = tonumber(draft.t) + window
    redis.call('HSET', dd, u, ids[j] .. ' ' .. string.format('%.17g', expires))
    redis.call('ZADD', ddx, expires, u)
  end
end

-- Every partition a draft went to records when it was last published to.
for _, draft in ipairs(drafts) do meta_of(draft.p).lp = draft.t end
for p, m in pairs(metas) do
  local args = {'HSET', k_meta(pre, p)}
  for name, value in pairs(m) do
    args[#args + 1] = name
    args[#args + 1] = type(value) == 'number' and int(value) or value
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
