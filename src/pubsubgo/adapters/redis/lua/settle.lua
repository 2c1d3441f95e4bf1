-- settle.lua: acknowledge deliveries of one slot group.
-- KEYS[1]  the group's anchor, for routing
-- ARGV     pre, sub, g, now, force ('1'/'0'), ordered ('1'/'0'), ack id...
-- Returns  per ack id, in order: its message's publish time if settled, else false
local pre, sub, g, now_s = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now, force, ordered = tonumber(now_s), ARGV[5] == '1', ARGV[6] == '1'
local inf, dl, own = k_sub(pre, g, sub, 'inf'), k_sub(pre, g, sub, 'dl'), k_sub(pre, g, sub, 'own')
local FIRST = 7 -- ARGV[FIRST..] are the ack ids
local outcome, gone, seen, counts = {}, {}, {}, {}

-- The records of every ack id, read in slices (one call each rather than one per ack id).
local raws = {}
for i = FIRST, #ARGV, 4000 do
  local slice = redis.call('HMGET', inf, unpack(ARGV, i, math.min(i + 3999, #ARGV)))
  for j = 1, #slice do raws[i - FIRST + j] = slice[j] end
end

-- The fields settling needs, read from a record as claim.lua (and record() in common.lua,
-- and extend.lua through cjson) writes it:
--   [<p>,"<entry id>",<attempt>,"<deadline>",<member>,<key or null>,<0/1>,"<publish time>"]
-- Most records have no key and a member whose JSON text has no escape, so it is the member
-- itself: those are matched here (deadline, member, exactly once, publish time), which
-- costs far less than decoding them. Any other record is decoded with cjson.
local PLAIN_RECORD = '^%[%d+,"[^"]*",%d+,"([^"]*)","([^"\\]*)",null,([01]),"([^"]*)"%]$'
local match = string.match

for i = FIRST, #ARGV do
  local ack, raw = ARGV[i], raws[i - FIRST + 1]
  local deadline, member, eo, published, r
  if raw then
    deadline, member, eo, published = match(raw, PLAIN_RECORD)
    if deadline then
      eo = eo == '1'
    else
      r = cjson.decode(raw)
      deadline, member, eo, published = r[4], r[5], r[7] == 1, r[8]
    end
  end
  -- An exactly-once delivery past its deadline is refused: it will be redelivered.
  -- A repeated ack id is settled once (its record is gone after the first).
  if raw and (force or not eo or now <= tonumber(deadline)) and not seen[ack] then
    seen[ack] = true
    gone[#gone + 1] = ack
    counts[member] = (counts[member] or 0) + 1
    if ordered and r and r[6] ~= cjson.null then release_key(pre, r[1], sub, r[6], now_s) end
    outcome[#outcome + 1] = published
  else
    outcome[#outcome + 1] = false
  end
end
if #gone > 0 then
  call_chunked('HDEL', inf, gone)
  call_chunked('ZREM', dl, gone)
end
unhold(own, counts)
return outcome
