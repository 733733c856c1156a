"""Lua scripts for the Redis store: each is one atomic step inside Redis.

Keys (all under `live:`): `poll:{id}` (hash, with the finalists as JSON), `poll-code:{code}`,
`polls` (sorted set of ids), `ballots:{id}` (hash voter -> JSON ballot), `counts:{id}` (hash
choice pattern -> number of ballots), `result:{id}` (the frozen counts), `ties:{id}`.
A ballot and its count change in the same script, so counts never drift from ballots.
Every change raises the poll's `version` and publishes "poll:version:kind" on
`live:changes`, kind `p` when the poll record changed and `b` when only ballots did.
A closing time (`closes_at_ms`) is compared with Redis's own clock (TIME), which scripts
may read since Redis 5 replicates their effects, not the scripts themselves.
"""

from __future__ import annotations

CHANNEL = "live:changes"

# The store's clock for closing times: Redis's own, so that every process agrees.
_NOW_MS = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
"""

# 'open' while the poll is open and before its closing time (if any); else 'closed'
# when that time has passed, or the poll's status.
_VOTING = (
    _NOW_MS
    + """
local function voting(poll_key, status)
  if status ~= 'open' then return status end
  local closes = redis.call('HGET', poll_key, 'closes_at_ms')
  if closes and closes ~= '' and tonumber(closes) <= now_ms() then return 'closed' end
  return 'open'
end
"""
)

_BUMP = """
local function bump(poll_key, poll_id, kind)
  local version = redis.call('HINCRBY', poll_key, 'version', 1)
  redis.call('PUBLISH', 'live:changes', poll_id .. ':' .. version .. ':' .. (kind or 'p'))
  return version
end
"""

# KEYS: poll, code, polls   ARGV: id, code, created_at, title, method, winners, finalists
CREATE_POLL = """
if redis.call('SET', KEYS[2], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'code', ARGV[2], 'created_at', ARGV[3],
  'title', ARGV[4], 'method', ARGV[5], 'winners', ARGV[6], 'finalists', ARGV[7],
  'status', 'draft', 'hide_counts', '0', 'revealed', '0', 'version', '1')
redis.call('ZADD', KEYS[3], tonumber(ARGV[1]), ARGV[1])
redis.call('PUBLISH', 'live:changes', ARGV[1] .. ':1:p')
return 1
"""

# KEYS: poll   ARGV: id, title, method, winners, finalists
UPDATE_POLL = (
    _BUMP
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= 'draft' then return {'conflict', status} end
redis.call('HSET', KEYS[1], 'title', ARGV[2], 'method', ARGV[3], 'winners', ARGV[4],
  'finalists', ARGV[5])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, counts, result   ARGV: id, source, target, stamp, due closes_at_ms or ''
# With a due time, the poll closes only if its closing time is still that one and passed.
TRANSITION = (
    _BUMP
    + _NOW_MS
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= ARGV[2] then return {'conflict', status} end
if ARGV[5] ~= '' then
  local closes = redis.call('HGET', KEYS[1], 'closes_at_ms')
  if closes ~= ARGV[5] or tonumber(closes) > now_ms() then return {'not-due'} end
end
if ARGV[3] == 'open' then
  redis.call('HSET', KEYS[1], 'status', 'open', 'opened_at', ARGV[4])
else
  redis.call('HSET', KEYS[1], 'status', 'closed', 'closed_at', ARGV[4], 'closes_at_ms', ARGV[5])
  local counts = redis.call('HGETALL', KEYS[2])
  redis.call('HSET', KEYS[3], 'counts', cjson.encode(counts), 'locked_at', ARGV[4])
end
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll   ARGV: id, seconds or '' (drop the countdown)
COUNTDOWN = (
    _BUMP
    + _VOTING
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if voting(KEYS[1], status) ~= 'open' then return {'conflict', status} end
local closes = ''
if ARGV[2] ~= '' then closes = now_ms() + tonumber(ARGV[2]) * 1000 end
redis.call('HSET', KEYS[1], 'closes_at_ms', closes)
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll   ARGV: id, shown ('0'|'1')
SHOW_RESULTS = (
    _BUMP
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= 'closed' then return {'conflict', status} end
redis.call('HSET', KEYS[1], 'show_results', ARGV[2])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll   ARGV: id, hidden ('0'|'1')
HIDE_COUNTS = (
    _BUMP
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
redis.call('HSET', KEYS[1], 'hide_counts', ARGV[2])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll   ARGV: id, revealed, limit
REVEAL_TO = (
    _BUMP
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= 'closed' then return {'conflict', 'not-closed'} end
local current, wanted = tonumber(redis.call('HGET', KEYS[1], 'revealed')), tonumber(ARGV[2])
if current >= wanted then return {'ok', 'shown'} end
if wanted < 1 or wanted > tonumber(ARGV[3]) or current ~= wanted - 1 then
  return {'conflict', 'not-next'}
end
redis.call('HSET', KEYS[1], 'revealed', wanted)
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, ballots, counts   ARGV: id, voter, choices, sent_at or '', stamp, kind
# A ballot is JSON {c: choices, r: revision, u: updated_at, s: sent_at, k: kind}.
CAST_BALLOT = (
    _BUMP
    + _VOTING
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
status = voting(KEYS[1], status)
if status ~= 'open' then return {'conflict', status} end
local revision, replaced = 1, 0
local old = redis.call('HGET', KEYS[2], ARGV[2])
if old then
  local ballot = cjson.decode(old)
  if ARGV[4] ~= '' and ballot.s ~= '' and tonumber(ARGV[4]) <= tonumber(ballot.s) then
    return {'stale', ballot.c, ballot.r, ballot.u}
  end
  revision, replaced = ballot.r + 1, 1
  if redis.call('HINCRBY', KEYS[3], ballot.c, -1) <= 0 then
    redis.call('HDEL', KEYS[3], ballot.c)
  end
end
redis.call('HSET', KEYS[2], ARGV[2],
  cjson.encode({c = ARGV[3], r = revision, u = ARGV[5], s = ARGV[4], k = ARGV[6]}))
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
bump(KEYS[1], ARGV[1], 'b')
return {'ok', ARGV[3], revision, ARGV[5], replaced}
"""
)

# KEYS: poll, result, ties   ARGV: id, tie_key, resolution JSON
RESOLVE_TIE = (
    _BUMP
    + """
if redis.call('EXISTS', KEYS[2]) == 0 then return {'conflict', 'not-locked'} end
if redis.call('HSETNX', KEYS[3], ARGV[2], ARGV[3]) == 0 then return {'conflict', 'resolved'} end
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: email, user, users   ARGV: id, email, role, password_hash or '', created_at,
# network_id or ''
CREATE_USER = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'email', ARGV[2], 'role', ARGV[3],
  'password_hash', ARGV[4], 'created_at', ARGV[5], 'network_id', ARGV[6])
redis.call('SADD', KEYS[3], ARGV[1])
return 1
"""

# Contest records: `rec:{kind}` (hash key -> JSON data), `recv:{kind}` (key -> version),
# `recu:{kind}` (key -> updated_at). The audit log is the sorted set `audit` of JSON
# entries scored by their id, drawn from `seq:audit` in the same script that adds them.
# `before` and `after` arrive as JSON text and are spliced in unparsed, so data never
# goes through cjson (which would turn [] into {} and round large numbers).
_AUDIT = """
local function audit(log_key, seq_key, at, actor, action, subject, before, after)
  local id = redis.call('INCR', seq_key)
  local entry = '{"id":' .. id .. ',"at":' .. cjson.encode(at)
    .. ',"actor":' .. cjson.encode(actor) .. ',"action":' .. cjson.encode(action)
    .. ',"subject":' .. cjson.encode(subject) .. ',"before":' .. before
    .. ',"after":' .. after .. '}'
  redis.call('ZADD', log_key, id, entry)
  return id
end
"""

# KEYS: audit, audit seq   ARGV: at, actor, action, subject, before JSON, after JSON
APPEND_AUDIT = (
    _AUDIT
    + """
return audit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""
)

# KEYS: rec, recv, recu, audit, audit seq
# ARGV: key, expected version, data JSON, updated_at, actor, action, subject
PUT_RECORD = (
    _AUDIT
    + """
local current = tonumber(redis.call('HGET', KEYS[2], ARGV[1]) or '0')
if current ~= tonumber(ARGV[2]) then return {'stale', current} end
local before = redis.call('HGET', KEYS[1], ARGV[1]) or 'null'
local version = current + 1
redis.call('HSET', KEYS[1], ARGV[1], ARGV[3])
redis.call('HSET', KEYS[2], ARGV[1], version)
redis.call('HSET', KEYS[3], ARGV[1], ARGV[4])
local id = audit(KEYS[4], KEYS[5], ARGV[4], ARGV[5], ARGV[6], ARGV[7], before, ARGV[3])
return {'ok', version, id}
"""
)
