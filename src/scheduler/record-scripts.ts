import type { ChainableCommander, Redis } from 'ioredis';

/**
 * Keeps a function's index of finished records at its cap, deleting what falls off: the record,
 * its event and its logs, and its dead-letter entry. A Lua function shared by both scripts below.
 * What falls off goes in one UNLINK and one ZREM (in slices: `unpack` is bounded by Lua's C stack),
 * not two commands per record: under load a batch pushes out as many records as it adds, and each
 * `redis.call` costs Redis its own dispatch.
 */
const TRIM_FUNCTION = `
local SLICE = 1000
local function inSlices(command, first, list)
  for i = 1, #list, SLICE do
    if first then redis.call(command, first, unpack(list, i, math.min(i + SLICE - 1, #list)))
    else redis.call(command, unpack(list, i, math.min(i + SLICE - 1, #list))) end
  end
end
local function trim(index, dead, cap, prefix)
  local excess = redis.call('ZCARD', index) - tonumber(cap)
  if excess <= 0 then return 0 end
  local ids = redis.call('ZRANGE', index, 0, excess - 1)
  local keys = {}
  for _, id in ipairs(ids) do
    local k = prefix .. id
    keys[#keys + 1] = k
    keys[#keys + 1] = k .. ':event'
    keys[#keys + 1] = k .. ':logs'
  end
  inSlices('UNLINK', nil, keys)
  inSlices('ZREM', dead, ids)
  redis.call('ZREMRANGEBYRANK', index, 0, excess - 1)
  return excess
end
`;

/**
 * The trim alone, so it rides in the same MULTI as the write that grew the index and sees a
 * consistent count. KEYS: index, dead letters. ARGV: cap, record key prefix (`<p>:inv:`).
 */
const TRIM_LUA = `${TRIM_FUNCTION}
return trim(KEYS[1], KEYS[2], ARGV[1], ARGV[2])
`;

/**
 * Finished records of one index (one function, one retention class) that are no dead letters,
 * written by one command instead of three per record: each value and its logs with the class's
 * TTL, its place in the index, out of the dead letters (kept class: a retry under the same id
 * succeeded); then the index trimmed and its expiry renewed once. Profiled: the pipelined
 * commands' client work was a tenth of a warm call's server CPU.
 * KEYS: index, dead letters. ARGV: cap, record key prefix, ttl, kept ('1' or '0'), then per
 * record: id, record JSON, logs JSON ('' for none), finish time (epoch ms).
 */
const PUT_FINISHED_LUA = `${TRIM_FUNCTION}
local prefix, ttl, kept = ARGV[2], ARGV[3], ARGV[4] == '1'
for i = 5, #ARGV, 4 do
  local id = ARGV[i]
  redis.call('SET', prefix .. id, ARGV[i + 1], 'EX', ttl)
  if ARGV[i + 2] ~= '' then redis.call('SET', prefix .. id .. ':logs', ARGV[i + 2], 'EX', ttl) end
  redis.call('ZADD', KEYS[1], ARGV[i + 3], id)
  if kept then redis.call('ZREM', KEYS[2], id) end
end
trim(KEYS[1], KEYS[2], ARGV[1], prefix)
redis.call('EXPIRE', KEYS[1], ttl)
return 0
`;

/**
 * An attempt starts: the record becomes running in one round trip instead of a read and a write
 * (as `attemptStarted` builds it: status, attempt, when, where; the previous attempt's error
 * goes), unless it already finished (a duplicate delivery) or does not exist. Its TTL stays.
 * KEYS: record. ARGV: attempt, maxAttempts, startedAt (ISO), redeliveries ('0': keep), node ('': keep).
 * Returns ['running' | 'finished', record JSON], or nil when there is no record.
 */
const START_ATTEMPT_LUA = `
local raw = redis.call('GET', KEYS[1])
if not raw then return nil end
local r = cjson.decode(raw)
if r.status == 'succeeded' or r.status == 'failed' then return {'finished', raw} end
r.status = 'running'
r.error = nil
r.attempts = tonumber(ARGV[1])
r.maxAttempts = tonumber(ARGV[2])
r.startedAt = ARGV[3]
if ARGV[4] ~= '0' then r.redeliveries = tonumber(ARGV[4]) end
if ARGV[5] ~= '' then r.node = ARGV[5] end
local json = cjson.encode(r)
redis.call('SET', KEYS[1], json, 'KEEPTTL')
return {'running', json}
`;

const TRIM = 'hearthTrimRecords';
const PUT_FINISHED = 'hearthPutFinished';
const START_ATTEMPT = 'hearthStartAttempt';

/** ioredis adds a method per defineCommand at run time; its types cannot know the names. */
type WithScripts = {
  [TRIM](index: string, dead: string, cap: number, recordPrefix: string): unknown;
  [PUT_FINISHED](index: string, dead: string, ...args: (string | number)[]): unknown;
  [START_ATTEMPT](record: string, attempt: number, maxAttempts: number, startedAt: string, redeliveries: number, node: string): Promise<[string, string] | null>;
};

/** Registers the scripts on the connection (once per connection; ioredis loads each on first use). */
export function defineRecordScripts(redis: Redis): void {
  if (!(TRIM in redis)) redis.defineCommand(TRIM, { numberOfKeys: 2, lua: TRIM_LUA });
  if (!(PUT_FINISHED in redis)) redis.defineCommand(PUT_FINISHED, { numberOfKeys: 2, lua: PUT_FINISHED_LUA });
  if (!(START_ATTEMPT in redis)) redis.defineCommand(START_ATTEMPT, { numberOfKeys: 1, lua: START_ATTEMPT_LUA });
}

/** Runs START_ATTEMPT_LUA: the record's state afterwards and its JSON, or undefined when it does not exist. */
export async function startAttempt(
  redis: Redis,
  recordKey: string,
  start: { attempt: number; maxAttempts: number; startedAt: string; redeliveries: number; node: string },
): Promise<{ state: 'running' | 'finished'; json: string } | undefined> {
  const reply = await (redis as unknown as WithScripts)[START_ATTEMPT](recordKey, start.attempt, start.maxAttempts, start.startedAt, start.redeliveries, start.node);
  return reply ? { state: reply[0] === 'finished' ? 'finished' : 'running', json: reply[1] } : undefined;
}

export function trimRecords(tx: ChainableCommander, index: string, dead: string, cap: number, recordPrefix: string): void {
  (tx as unknown as WithScripts)[TRIM](index, dead, cap, recordPrefix);
}

/** One finished record for `putFinished`: its id, value and logs as JSON ('' for none), finish time. */
export type FinishedEntry = [id: string, record: string, logs: string, finishedAtMs: number];

/** Adds the write of an index's finished records (see PUT_FINISHED_LUA) to a pipeline. */
export function putFinished(
  tx: ChainableCommander,
  index: { key: string; dead: string; cap: number; ttl: number; kept: boolean },
  recordPrefix: string,
  entries: FinishedEntry[],
): void {
  (tx as unknown as WithScripts)[PUT_FINISHED](index.key, index.dead, index.cap, recordPrefix, index.ttl, index.kept ? '1' : '0', ...entries.flat());
}
