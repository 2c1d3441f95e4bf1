-- append.lua: store a batch of messages in one slot group, atomically.
-- KEYS[1]  the group's anchor (meta of partition g), for routing
-- ARGV     pre, g, dedup window, max messages (0 = unbounded), overflow,
--          first partition, partition count (of the group), heads, times, options, data...
-- heads    4 bytes per draft: partition ('>H'), rank, and what the draft has in the next two
--          strings: 0 nothing, 1 a publish time, 2 options, 3 both. A draft without a time
--          of its own was published when the draft before it was (the first one has one).
-- times    each a '>I4' length and a publish time (exact decimal), in draft order
-- options  for each draft that has options, in order: seven fields each a '>I4' length and
--          bytes: key ('' none, '+' .. key), attributes JSON, mode ('' at least once),
--          expires at, deliver at, dedup id, compression. Empty when no draft has options
--          (no key, no dedup id...): such a batch takes the plain path below.
-- data     one argument per draft, in order: its payload. Payloads travel as arguments of
--          their own (not inside ``heads``) because every string Lua makes costs time per
--          byte: an argument becomes a Lua string once and goes to XADD as it is.
-- Returns  {'OK', id...} one id per draft; {'NOTOPIC'}; {'FULL'}; {'BACKLOG', subscription,
--          max backlog} (a subscription with overflow reject has no room for the batch)
--
-- Redis's own work for each XADD is most of a call; what the script adds runs once per
-- message, so it is kept small: fixed-size heads (one string.byte, no struct format to
-- parse), publish times and options read only where a draft has them, and a plain batch
-- stored in one loop without per-draft tables. Per call: no dedup cleanup query for a group
-- without dedup records, and only the counters that changed written back.
local pre, g = ARGV[1], ARGV[2]
local window, max_messages = tonumber(ARGV[3]), tonumber(ARGV[4])
local drop_oldest = ARGV[5] == 'drop_oldest'
local first, count = tonumber(ARGV[6]), tonumber(ARGV[7])
local heads, times, options = ARGV[8], ARGV[9], ARGV[10]
local DATA = 10 -- ARGV[DATA + i] is draft i's payload
local n = #heads / 4
local plain = options == ''
local byte, unpack_struct = string.byte, struct.unpack
local HAS_TIME, HAS_OPTIONS = {[1] = true, [3] = true}, {[2] = true, [3] = true}

local OPTIONAL = {'k', 'a', 'm', 'x', 'w', 'u', 'c'}
-- Drafts with options as parallel arrays (a table per draft costs more than the rest of its
-- parsing); opts[i] only for drafts with options, U[i] the dedup id ('' for none).
local P, R, T, opts, U = {}, {}, {}, {}, {}
local has_dedup = false
local function read_drafts()
  local t, at, o_at = nil, 1, 1
  for i = 1, n do
    local pos = 4 * i - 3
    local hi, lo, rank, has = byte(heads, pos, pos + 3)
    if HAS_TIME[has] then t, at = unpack_struct('>I4c0', times, at) end
    P[i], R[i], T[i], U[i] = hi * 256 + lo, rank, t, ''
    if HAS_OPTIONS[has] then
      local o, value = {}
      for _, name in ipairs(OPTIONAL) do
        value, o_at = unpack_struct('>I4c0', options, o_at)
        o[name] = value
      end
      opts[i], U[i] = o, o.u
      if o.u ~= '' then has_dedup = true end
    end
  end
end
if not plain then read_drafts() end

if redis.call('EXISTS', k_meta(pre, g)) == 0 then return {'NOTOPIC'} end

-- Forget dedup records whose window closed by the batch's publish time. A group without
-- records has no ddx key (Redis removes an empty sorted set), which EXISTS tells for less
-- than the range query costs.
local dd, ddx = k_dedup(pre, g), k_dedupx(pre, g)
if window > 0 and n > 0 and (has_dedup or redis.call('EXISTS', ddx) == 1) then
  local closed = redis.call('ZRANGEBYSCORE', ddx, '-inf', (unpack_struct('>I4c0', times)),
    'LIMIT', 0, 1000)
  if #closed > 0 then
    call_chunked('HDEL', dd, closed)
    call_chunked('ZREM', ddx, closed)
  end
end

-- Resolve duplicates: slot[i] is an existing id, or the index of a fresh draft. A batch
-- without dedup ids has nothing to resolve: every draft is fresh.
local slot, fresh, seen = {}, {}, {}
local fresh_count = n
if has_dedup and window > 0 then
  for i = 1, n do
    local u = U[i]
    if u ~= '' then
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
      if u ~= '' then seen[u] = #fresh end
    end
  end
  fresh_count = #fresh
elseif not plain then
  for i = 1, n do fresh[i], slot[i] = i, i end
end

-- Capacity: bounded topics are co-located, so this group holds the whole topic.
local stored = 0
if max_messages > 0 then
  for p = first, first + count - 1 do
    stored = stored + tonumber(redis.call('HGET', k_meta(pre, p), 'c') or '0')
  end
  if not drop_oldest and stored + fresh_count > max_messages then return {'FULL'} end
end

-- A subscription's backlog in this group (what it has not settled: unread, scheduled and
-- in flight), as sub_stats.lua counts it.
local function sub_backlog(sub)
  local total = 0
  for p = first, first + count - 1 do
    local read = redis.call('HMGET', k_sub(pre, p, sub, 'cur'), 'r0', 'r1', 'r2', 'r3')
    local appended = redis.call('HMGET', k_meta(pre, p), 'a0', 'a1', 'a2', 'a3')
    for rank = 0, 3 do
      local behind = tonumber(appended[rank + 1] or '0') - tonumber(read[rank + 1] or '0')
      if behind > 0 then total = total + math.min(behind, redis.call('XLEN', k_lane(pre, p, rank))) end
    end
    total = total + redis.call('ZCARD', k_sub(pre, p, sub, 'sch')) + redis.call('ZCARD', k_sub(pre, p, sub, 'held'))
  end
  return total + redis.call('HLEN', k_sub(pre, g, sub, 'inf'))
end

-- Subscriptions with a max_backlog (position.lua registers them): each one that rejects
-- must have room for the batch; those that drop their oldest are trimmed once it is stored.
-- A group without any has no such hash, which costs one lookup.
local dropping = {}
local bounds = redis.call('HGETALL', k_bounds(pre, g))
for i = 1, #bounds, 2 do
  local max_backlog, overflow = string.match(bounds[i + 1], '^(%d+) (%S+)$')
  if overflow == 'drop_oldest' then
    dropping[#dropping + 1] = {sub = bounds[i], bound = tonumber(max_backlog)}
  elseif sub_backlog(bounds[i]) + fresh_count > tonumber(max_backlog) then
    return {'BACKLOG', bounds[i], max_backlog}
  end
end

-- Partition counters are read once, kept here during the batch, and written back once.
-- Besides them a partition's entry holds what its messages reuse: its lane keys, the
-- prefixes of its entry ids ("<ms>-") and message ids ("<p>-"), and the counters as read
-- (raw, in META_FIELDS order; o0 and lm0 as numbers). Per lane (index rank + 1): a the
-- appended count once the batch adds to the lane, last its last entry id.
local metas = {}
local META_FIELDS = {'o', 'lm', 'c', 'b', 'pc', 'a0', 'a1', 'a2', 'a3'}
-- A counter as a number. Arithmetic converts a string with one strtod where tonumber takes
-- two, and only the counters a batch changes are converted at all.
local function num(raw) return raw and raw + 0 or 0 end
local function meta_of(p)
  local m = metas[p]
  if not m then
    local v = redis.call('HMGET', k_meta(pre, p), unpack(META_FIELDS))
    local o, lm = num(v[1]), num(v[2])
    m = {raw = v, o = o, o0 = o, lm = lm, lm0 = lm, b = num(v[4]), a = {}, last = {}, lanes = {},
      prefix = p .. '-', ms = int(lm) .. '-'}
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

-- Store one message (o: its options or nil) and return its message id. Runs once per
-- message: table lookups, three short strings and one XADD. Numbers are formatted with
-- '%d' (an integer printf): Lua's own conversion, and Redis's of a number argument, print
-- a double, which costs several times more.
local floor, fmt = math.floor, string.format
local last_t, last_ms = nil, 0 -- drafts of a batch share their publish time: parse it once
local function store(p, rank, t, d, o)
  local m = metas[p] or meta_of(p)
  if t ~= last_t then last_t, last_ms = t, floor(tonumber(t) * 1000) end
  if last_ms > m.lm then m.lm, m.ms = last_ms, int(last_ms) .. '-' end
  local order, lane = m.o + 1, rank + 1
  local id = fmt('%s%d', m.ms, order * 4 + rank)
  local position = (m.a[lane] or num(m.raw[5 + lane])) + 1
  m.o, m.b, m.lp, m.a[lane], m.last[lane] = order, m.b + #d, t, position, id
  if o then
    xadd_with_options(m.lanes[lane], id, position, t, d, o)
  else
    redis.call('XADD', m.lanes[lane], id, 'n', fmt('%d', position), 't', t, 'd', d)
  end
  return m.prefix .. id
end

local reply = {'OK'}
if plain then
  -- Every draft is fresh and has no options: read each head and store it in one pass.
  local t, at = nil, 1
  for i = 1, n do
    local pos = 4 * i - 3
    local hi, lo, rank, has = byte(heads, pos, pos + 3)
    if has == 1 then t, at = unpack_struct('>I4c0', times, at) end
    reply[i + 1] = store(hi * 256 + lo, rank, t, ARGV[DATA + i])
  end
else
  local ids = {}
  for j, i in ipairs(fresh) do
    ids[j] = store(P[i], R[i], T[i], ARGV[DATA + i], opts[i])
    local u = U[i]
    if window > 0 and u ~= '' then
      local expires = tonumber(T[i]) + window
      redis.call('HSET', dd, u, ids[j] .. ' ' .. string.format('%.17g', expires))
      redis.call('ZADD', ddx, expires, u)
    end
  end
  -- Every partition a draft went to, duplicates included, records when it was last
  -- published to.
  for i = 1, n do meta_of(P[i]).lp = T[i] end
  for i = 1, n do
    reply[i + 1] = type(slot[i]) == 'number' and ids[slot[i]] or slot[i]
  end
end

-- Write back what changed, and what the hash lacks (a fresh partition has no lane counters
-- yet): the hash ends as if every counter were written, for fewer fields (each costs).
local APPENDED, LAST = {'a0', 'a1', 'a2', 'a3'}, {'l0', 'l1', 'l2', 'l3'}
local function put(args, name, value)
  args[#args + 1] = name
  args[#args + 1] = value
end
for p, m in pairs(metas) do
  local v, added = m.raw, m.o - m.o0
  local complete = v[1] and v[2] and v[3] and v[4] and v[5] -- topic_init writes them
  local args = {'HSET', k_meta(pre, p), 'lp', m.lp}
  if added > 0 or not complete then
    put(args, 'o', int(m.o))
    if m.lm ~= m.lm0 or not complete then put(args, 'lm', int(m.lm)) end
    put(args, 'c', int(num(v[3]) + added))
    put(args, 'b', int(m.b))
    put(args, 'pc', int(num(v[5]) + added))
  end
  for lane = 1, 4 do
    if m.a[lane] or not v[5 + lane] then put(args, APPENDED[lane], int(m.a[lane] or 0)) end
  end
  for lane = 1, 4 do
    if m.last[lane] then put(args, LAST[lane], m.last[lane]) end
  end
  redis.call(unpack(args))
end

-- drop_oldest: the oldest messages by publish time (then partition, then publish order),
-- read from each lane's head (``cursor_of`` nil) or from a subscription's read positions.
local function lane_heads(cursor_of)
  local lanes = {}
  for p = first, first + count - 1 do
    for rank = 0, 3 do
      local cursor = cursor_of and cursor_of(p, rank) or '0-0'
      lanes[#lanes + 1] = {p = p, rank = rank, reader = lane_reader(k_lane(pre, p, rank), cursor), n = 0, b = 0}
    end
  end
  return lanes
end

local function head_of(lane)
  local entry = lane.reader.peek()
  if entry and entry ~= lane.entry then
    local f = fields(entry[2])
    local _, s = id_parts(entry[1])
    lane.entry, lane.t, lane.s, lane.size, lane.position = entry, tonumber(f.t), s, #f.d, f.n
  end
  return entry
end

local function older(a, b)
  if a.t ~= b.t then return a.t < b.t end
  if a.p ~= b.p then return a.p < b.p end
  return a.s < b.s
end

-- Take the ``excess`` oldest entries from the lanes' heads; each lane counts what it gave
-- (n, bytes b, its last entry's lane position).
local function take_oldest(lanes, excess)
  for _ = 1, excess do
    local best = nil
    for _, lane in ipairs(lanes) do
      if head_of(lane) and (not best or older(lane, best)) then best = lane end
    end
    if not best then return end
    best.reader.take()
    best.n, best.b, best.last = best.n + 1, best.b + best.size, best.position
  end
end

local function drop(excess)
  local lanes = lane_heads(nil)
  take_oldest(lanes, excess)
  for _, lane in ipairs(lanes) do
    if lane.n > 0 then
      local ms, s = id_parts(lane.reader.cursor)
      redis.call('XTRIM', lane.reader.key, 'MINID', int(ms) .. '-' .. int(s + 1))
      redis.call('HINCRBY', k_meta(pre, lane.p), 'c', -lane.n)
      redis.call('HINCRBY', k_meta(pre, lane.p), 'b', -lane.b)
    end
  end
end

if max_messages > 0 and drop_oldest and stored + fresh_count > max_messages then
  drop(stored + fresh_count - max_messages)
end

-- A subscription over its max_backlog with overflow drop_oldest skips its oldest unread
-- messages: its read positions move past them (what is in flight or scheduled stays).
local function skip_oldest(sub, excess)
  local lanes = lane_heads(function(p, rank)
    return redis.call('HGET', k_sub(pre, p, sub, 'cur'), 'i' .. rank) or '0-0'
  end)
  take_oldest(lanes, excess)
  for _, lane in ipairs(lanes) do
    if lane.n > 0 then
      redis.call('HSET', k_sub(pre, lane.p, sub, 'cur'), 'i' .. lane.rank, lane.reader.cursor, 'r' .. lane.rank, lane.last)
    end
  end
end

for _, bounded in ipairs(dropping) do
  local excess = sub_backlog(bounded.sub) - bounded.bound
  if excess > 0 then skip_oldest(bounded.sub, excess) end
end

return reply
