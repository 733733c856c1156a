"""Lua scripts for the Redis store: each is one atomic step inside Redis.

Keys (all under `live:`): `poll:{id}` (hash, with the finalists as JSON), `poll-code:{code}`,
`polls` (sorted set of ids), `ballots:{id}` (hash voter -> JSON ballot), `counts:{id}` (hash
choice pattern -> number of ballots), `result:{id}` (the frozen counts), `ties:{id}`,
`badges:{id}` (hash code -> JSON badge), `badge-polls` (hash code -> poll id, for every
poll: a code is unique everywhere), `exclusions:{id}` (list of JSON decisions).
A ballot and its count change in the same script, so counts never drift from ballots.
Every change raises the poll's `version` and publishes "poll:version:kind" on
`live:changes`, kind `p` when the poll record changed and `b` when only ballots did.
Every change to a poll (a vote is not one) writes its audit entry in the same script.
Redis does not roll a script back when a command in it fails, so each script checks
first, then writes its audit entry, then the change: a failing audit write leaves the
change undone.
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
AUDIT_FUNCTION = _AUDIT  # for the scripts of other modules that audit what they change

_BUMP = """
local function bump(poll_key, poll_id, kind)
  local version = redis.call('HINCRBY', poll_key, 'version', 1)
  redis.call('PUBLISH', 'live:changes', poll_id .. ':' .. version .. ':' .. (kind or 'p'))
  return version
end
"""

# Several contest records written together, as `put_records` does: KEYS from `k` hold
# rec, recv, recu for each record; ARGV from `a` hold 7 values for each: key, expected
# version, data JSON ('' only checks the version), action, subject, and the audit entry's
# before and after JSON ('' for the stored data and the new data).
_RECORDS = """
local function records_at_version(k, a, n)
  for i = 0, n - 1 do
    local current = tonumber(redis.call('HGET', KEYS[k + 3 * i + 1], ARGV[a + 7 * i]) or '0')
    if current ~= tonumber(ARGV[a + 7 * i + 1]) then return false end
  end
  return true
end

local function write_records(k, a, n, log_key, seq_key, at, actor)
  for i = 0, n - 1 do
    local rec, arg = k + 3 * i, a + 7 * i
    if ARGV[arg + 2] ~= '' then
      local before, after = ARGV[arg + 5], ARGV[arg + 6]
      if before == '' then before = redis.call('HGET', KEYS[rec], ARGV[arg]) or 'null' end
      if after == '' then after = ARGV[arg + 2] end
      audit(log_key, seq_key, at, actor, ARGV[arg + 3], ARGV[arg + 4], before, after)
    end
  end
  local versions = {}
  for i = 0, n - 1 do
    local rec, arg = k + 3 * i, a + 7 * i
    if ARGV[arg + 2] ~= '' then
      local version = tonumber(ARGV[arg + 1]) + 1
      redis.call('HSET', KEYS[rec], ARGV[arg], ARGV[arg + 2])
      redis.call('HSET', KEYS[rec + 1], ARGV[arg], version)
      redis.call('HSET', KEYS[rec + 2], ARGV[arg], at)
      versions[#versions + 1] = version
    end
  end
  return versions
end
"""

# KEYS: poll, code, polls, audit, audit seq, then 3 per record (see _RECORDS)
# ARGV: id, code, created_at, title, method, winners, finalists, actor, summary JSON,
# eligibility, max_choices or '', tie_rule, expected_voters or '', then 7 per record
CREATE_POLL = (
    _AUDIT
    + _RECORDS
    + """
if redis.call('EXISTS', KEYS[2]) == 1 then return {'taken'} end
local records = (#KEYS - 5) / 3
if not records_at_version(6, 14, records) then return {'stale'} end
audit(KEYS[4], KEYS[5], ARGV[3], ARGV[8], 'poll.create', 'poll:' .. ARGV[1], 'null', ARGV[9])
write_records(6, 14, records, KEYS[4], KEYS[5], ARGV[3], ARGV[8])
redis.call('SET', KEYS[2], ARGV[1])
redis.call('HSET', KEYS[1], 'id', ARGV[1], 'code', ARGV[2], 'created_at', ARGV[3],
  'title', ARGV[4], 'method', ARGV[5], 'winners', ARGV[6], 'finalists', ARGV[7],
  'status', 'draft', 'hide_counts', '0', 'revealed', '0', 'version', '1',
  'eligibility', ARGV[10], 'max_choices', ARGV[11], 'tie_rule', ARGV[12],
  'expected_voters', ARGV[13])
redis.call('ZADD', KEYS[3], tonumber(ARGV[1]), ARGV[1])
redis.call('PUBLISH', 'live:changes', ARGV[1] .. ':1:p')
return {'ok'}
"""
)

# A number field of a poll as JSON: its digits, or null when unset ('' or absent).
_NUMBER_OR_NULL = """
local function number_or_null(value)
  if not value or value == '' then return 'null' end
  return tostring(tonumber(value))
end
"""

# KEYS: poll, audit, audit seq
# ARGV: id, title, method, winners, finalists, at, actor, summary JSON, eligibility,
# max_choices or '', tie_rule, expected_voters or ''
UPDATE_POLL = (
    _BUMP
    + _AUDIT
    + _NUMBER_OR_NULL
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= 'draft' then return {'conflict', status} end
local old = redis.call('HMGET', KEYS[1], 'title', 'method', 'winners', 'finalists',
  'eligibility', 'max_choices', 'tie_rule', 'expected_voters')
local names = {}
for i, finalist in ipairs(cjson.decode(old[4])) do names[i] = finalist.name end
local before = '{"title":' .. cjson.encode(old[1]) .. ',"method":' .. cjson.encode(old[2])
  .. ',"winners":' .. tonumber(old[3]) .. ',"finalists":' .. cjson.encode(names)
  .. ',"eligibility":' .. cjson.encode(old[5] or 'open')
  .. ',"max_choices":' .. number_or_null(old[6])
  .. ',"tie_rule":' .. cjson.encode(old[7] or 'lots')
  .. ',"expected_voters":' .. number_or_null(old[8]) .. '}'
audit(KEYS[2], KEYS[3], ARGV[6], ARGV[7], 'poll.update', 'poll:' .. ARGV[1], before, ARGV[8])
redis.call('HSET', KEYS[1], 'title', ARGV[2], 'method', ARGV[3], 'winners', ARGV[4],
  'finalists', ARGV[5], 'eligibility', ARGV[9], 'max_choices', ARGV[10], 'tie_rule', ARGV[11],
  'expected_voters', ARGV[12])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, audit, audit seq   ARGV: id, expected voters or '', at, actor
EXPECTED_VOTERS = (
    _BUMP
    + _AUDIT
    + _NUMBER_OR_NULL
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local before = number_or_null(redis.call('HGET', KEYS[1], 'expected_voters'))
local after = number_or_null(ARGV[2])
if before == after then return {'ok', 'same'} end
audit(KEYS[2], KEYS[3], ARGV[3], ARGV[4], 'poll.expected_voters', 'poll:' .. ARGV[1],
  '{"expected_voters":' .. before .. '}', '{"expected_voters":' .. after .. '}')
redis.call('HSET', KEYS[1], 'expected_voters', ARGV[2])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, counts, result, audit, audit seq
# ARGV: id, source, target, stamp, due closes_at_ms or '', at, actor, action, after JSON
# With a due time, the poll closes only if its closing time is still that one and passed.
TRANSITION = (
    _BUMP
    + _NOW_MS
    + _AUDIT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= ARGV[2] then return {'conflict', status} end
if ARGV[5] ~= '' then
  local closes = redis.call('HGET', KEYS[1], 'closes_at_ms')
  if closes ~= ARGV[5] or tonumber(closes) > now_ms() then return {'not-due'} end
end
audit(KEYS[4], KEYS[5], ARGV[6], ARGV[7], ARGV[8], 'poll:' .. ARGV[1], 'null', ARGV[9])
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

# KEYS: poll, audit, audit seq   ARGV: id, seconds or '' (drop the countdown), at, actor,
# after JSON
COUNTDOWN = (
    _BUMP
    + _VOTING
    + _AUDIT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if voting(KEYS[1], status) ~= 'open' then return {'conflict', status} end
audit(KEYS[2], KEYS[3], ARGV[3], ARGV[4], 'poll.countdown', 'poll:' .. ARGV[1], 'null', ARGV[5])
local closes = ''
if ARGV[2] ~= '' then closes = now_ms() + tonumber(ARGV[2]) * 1000 end
redis.call('HSET', KEYS[1], 'closes_at_ms', closes)
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, audit, audit seq   ARGV: id, shown ('0'|'1'), at, actor, after JSON
SHOW_RESULTS = (
    _BUMP
    + _AUDIT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= 'closed' then return {'conflict', status} end
if (redis.call('HGET', KEYS[1], 'show_results') or '0') == ARGV[2] then return {'ok', 'same'} end
audit(KEYS[2], KEYS[3], ARGV[3], ARGV[4], 'poll.results', 'poll:' .. ARGV[1], 'null', ARGV[5])
redis.call('HSET', KEYS[1], 'show_results', ARGV[2])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, audit, audit seq   ARGV: id, hidden ('0'|'1'), at, actor
HIDE_COUNTS = (
    _BUMP
    + _AUDIT
    + """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
if redis.call('HGET', KEYS[1], 'hide_counts') == ARGV[2] then return {'ok', 'same'} end
local action = 'poll.show'
if ARGV[2] == '1' then action = 'poll.hide' end
audit(KEYS[2], KEYS[3], ARGV[3], ARGV[4], action, 'poll:' .. ARGV[1], 'null', 'null')
redis.call('HSET', KEYS[1], 'hide_counts', ARGV[2])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: poll, audit, audit seq   ARGV: id, revealed, limit, at, actor
REVEAL_TO = (
    _BUMP
    + _AUDIT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status ~= 'closed' then return {'conflict', 'not-closed'} end
local current, wanted = tonumber(redis.call('HGET', KEYS[1], 'revealed')), tonumber(ARGV[2])
if current >= wanted then return {'ok', 'shown'} end
if wanted < 1 or wanted > tonumber(ARGV[3]) or current ~= wanted - 1 then
  return {'conflict', 'not-next'}
end
audit(KEYS[2], KEYS[3], ARGV[4], ARGV[5], 'poll.reveal', 'poll:' .. ARGV[1],
  '{"revealed":' .. current .. '}', '{"revealed":' .. wanted .. '}')
redis.call('HSET', KEYS[1], 'revealed', wanted)
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# One ballot fewer for choice pattern `c` in the counts hash.
_UNCOUNT = """
local function uncount(counts_key, c)
  if redis.call('HINCRBY', counts_key, c, -1) <= 0 then redis.call('HDEL', counts_key, c) end
end
"""

# KEYS: poll, ballots, counts, badges
# ARGV: id, voter, choices, sent_at or '', stamp, kind, receipt, flagged ('0'|'1')
# A ballot is JSON {c: choices, r: revision, u: updated_at, s: sent_at, k: kind,
# x: receipt, f: flagged (0|1), e: the exclusion decision's id, absent while it counts}.
# A badge ballot (kind 'badge', voter 'badge:CODE') needs the badge, not revoked.
CAST_BALLOT = (
    _BUMP
    + _VOTING
    + _UNCOUNT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
status = voting(KEYS[1], status)
if status ~= 'open' then return {'conflict', status} end
if ARGV[6] == 'badge' then
  local badge = redis.call('HGET', KEYS[4], string.sub(ARGV[2], 7))
  if not badge then return {'forbidden', 'badge-unknown'} end
  if cjson.decode(badge).r ~= '' then return {'forbidden', 'badge-revoked'} end
end
local revision, replaced, receipt = 1, 0, ARGV[7]
local old = redis.call('HGET', KEYS[2], ARGV[2])
if old then
  local ballot = cjson.decode(old)
  if ballot.e then return {'forbidden', 'excluded'} end
  receipt = ballot.x or ''
  if ARGV[4] ~= '' and ballot.s ~= '' and tonumber(ARGV[4]) <= tonumber(ballot.s) then
    return {'stale', ballot.c, ballot.r, ballot.u, receipt}
  end
  revision, replaced = ballot.r + 1, 1
  uncount(KEYS[3], ballot.c)
end
redis.call('HSET', KEYS[2], ARGV[2], cjson.encode({c = ARGV[3], r = revision, u = ARGV[5],
  s = ARGV[4], k = ARGV[6], x = receipt, f = tonumber(ARGV[8])}))
redis.call('HINCRBY', KEYS[3], ARGV[3], 1)
bump(KEYS[1], ARGV[1], 'b')
return {'ok', ARGV[3], revision, ARGV[5], replaced, receipt}
"""
)

# KEYS: poll, badges, badge polls (code -> poll id, every poll), audit, audit seq
# ARGV: id, at, actor, then the codes
ADD_BADGES = (
    _AUDIT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if status == 'closed' then return {'conflict'} end
for i = 4, #ARGV do
  if redis.call('HEXISTS', KEYS[3], ARGV[i]) == 1 then return {'taken'} end
end
audit(KEYS[4], KEYS[5], ARGV[2], ARGV[3], 'poll.badges', 'poll:' .. ARGV[1], 'null',
  '{"count":' .. (#ARGV - 3) .. '}')
local position = redis.call('HLEN', KEYS[2])
for i = 4, #ARGV do
  position = position + 1
  redis.call('HSET', KEYS[2], ARGV[i], cjson.encode({p = position, c = ARGV[2], r = ''}))
  redis.call('HSET', KEYS[3], ARGV[i], ARGV[1])
end
return {'ok'}
"""
)

# KEYS: poll, badges, ballots, counts, audit, audit seq   ARGV: id, code, at, actor
REVOKE_BADGE = (
    _BUMP
    + _AUDIT
    + _UNCOUNT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
local raw = redis.call('HGET', KEYS[2], ARGV[2])
if not raw then return {'unknown'} end
local badge = cjson.decode(raw)
if badge.r ~= '' then return {'already'} end
if status == 'closed' then return {'conflict'} end
local voter = 'badge:' .. ARGV[2]
local old = redis.call('HGET', KEYS[3], voter)
local removed = 'false'
if old then removed = 'true' end
audit(KEYS[5], KEYS[6], ARGV[3], ARGV[4], 'poll.badge_revoke', 'poll:' .. ARGV[1], 'null',
  '{"code":' .. cjson.encode(ARGV[2]) .. ',"ballot_removed":' .. removed .. '}')
if old then
  local ballot = cjson.decode(old)
  if not ballot.e then uncount(KEYS[4], ballot.c) end
  redis.call('HDEL', KEYS[3], voter)
end
badge.r = ARGV[3]
redis.call('HSET', KEYS[2], ARGV[2], cjson.encode(badge))
bump(KEYS[1], ARGV[1], 'b')
return {'ok'}
"""
)

# KEYS: poll, ballots, counts, exclusions, exclusion seq, audit, audit seq
# ARGV: id, note, at, actor
EXCLUDE_FLAGGED = (
    _BUMP
    + _VOTING
    + _AUDIT
    + _UNCOUNT
    + """
local status = redis.call('HGET', KEYS[1], 'status')
if not status then return {'missing'} end
if voting(KEYS[1], status) ~= 'open' then return {'conflict'} end
local flat = redis.call('HGETALL', KEYS[2])
local flagged = {}
for i = 1, #flat, 2 do
  local ballot = cjson.decode(flat[i + 1])
  if ballot.f == 1 and not ballot.e then flagged[#flagged + 1] = {flat[i], ballot} end
end
if #flagged == 0 then return {'none'} end
local id = redis.call('INCR', KEYS[5])
local exclusion = '{"id":' .. id .. ',"poll_id":' .. ARGV[1] .. ',"note":' .. cjson.encode(ARGV[2])
  .. ',"decided_by":' .. cjson.encode(ARGV[4]) .. ',"decided_at":' .. cjson.encode(ARGV[3])
  .. ',"ballots":' .. #flagged .. '}'
audit(KEYS[6], KEYS[7], ARGV[3], ARGV[4], 'poll.exclude', 'poll:' .. ARGV[1], 'null',
  '{"note":' .. cjson.encode(ARGV[2]) .. ',"ballots":' .. #flagged .. '}')
for _, item in ipairs(flagged) do
  local ballot = item[2]
  ballot.e = id
  redis.call('HSET', KEYS[2], item[1], cjson.encode(ballot))
  uncount(KEYS[3], ballot.c)
end
redis.call('RPUSH', KEYS[4], exclusion)
bump(KEYS[1], ARGV[1], 'b')
return {'ok', id}
"""
)

# KEYS: poll, result, ties, audit, audit seq
# ARGV: id, tie_key, resolution JSON, at, actor, after JSON
RESOLVE_TIE = (
    _BUMP
    + _AUDIT
    + """
if redis.call('EXISTS', KEYS[2]) == 0 then return {'conflict', 'not-locked'} end
if redis.call('HEXISTS', KEYS[3], ARGV[2]) == 1 then return {'conflict', 'resolved'} end
audit(KEYS[4], KEYS[5], ARGV[4], ARGV[5], 'poll.tie', 'poll:' .. ARGV[1], 'null', ARGV[6])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {'ok', bump(KEYS[1], ARGV[1])}
"""
)

# KEYS: email, user, users, audit, audit seq   ARGV: id, email, role, password_hash or '',
# created_at, network_id or '', actor, subject, audit data JSON
CREATE_USER = (
    _AUDIT
    + """
if redis.call('SET', KEYS[1], ARGV[1], 'NX') == false then return 0 end
redis.call('HSET', KEYS[2], 'id', ARGV[1], 'email', ARGV[2], 'role', ARGV[3],
  'password_hash', ARGV[4], 'created_at', ARGV[5], 'network_id', ARGV[6])
redis.call('SADD', KEYS[3], ARGV[1])
audit(KEYS[4], KEYS[5], ARGV[5], ARGV[7], 'account.create', ARGV[8], 'null', ARGV[9])
return 1
"""
)

# KEYS: audit, audit seq   ARGV: at, actor, action, subject, before JSON, after JSON
APPEND_AUDIT = (
    _AUDIT
    + """
return audit(KEYS[1], KEYS[2], ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
"""
)

# KEYS: audit, audit seq, then 3 per record   ARGV: at, actor, then 7 per record
# (see _RECORDS): every version is checked before anything is written.
PUT_RECORDS = (
    _AUDIT
    + _RECORDS
    + """
local records = (#KEYS - 2) / 3
if not records_at_version(3, 3, records) then return {'stale'} end
return {'ok', write_records(3, 3, records, KEYS[1], KEYS[2], ARGV[1], ARGV[2])}
"""
)
