import type { ChainableCommander, Redis } from 'ioredis';

/**
 * Keeps a function's index of finished records at its cap, deleting what falls off: the record,
 * its event and its logs, and its dead-letter entry. In a script so it rides in the same MULTI as
 * the write that grew the index (one round trip per record) and sees a consistent count.
 * KEYS: index, dead letters. ARGV: cap, record key prefix (`<p>:inv:`).
 */
const TRIM_LUA = `
local excess = redis.call('ZCARD', KEYS[1]) - tonumber(ARGV[1])
if excess <= 0 then return 0 end
local ids = redis.call('ZRANGE', KEYS[1], 0, excess - 1)
for _, id in ipairs(ids) do
  local k = ARGV[2] .. id
  redis.call('UNLINK', k, k .. ':event', k .. ':logs')
end
redis.call('ZREM', KEYS[2], unpack(ids))
redis.call('ZREMRANGEBYRANK', KEYS[1], 0, excess - 1)
return excess
`;

const COMMAND = 'hearthTrimRecords';

/** ioredis adds a method per defineCommand at run time; its types cannot know the name. */
type WithTrim = { [COMMAND](index: string, dead: string, cap: number, recordPrefix: string): unknown };

/** Registers the script on the connection (once per connection; ioredis loads it on first use). */
export function defineTrimRecords(redis: Redis): void {
  if (!(COMMAND in redis)) redis.defineCommand(COMMAND, { numberOfKeys: 2, lua: TRIM_LUA });
}

export function trimRecords(tx: ChainableCommander, index: string, dead: string, cap: number, recordPrefix: string): void {
  (tx as unknown as WithTrim)[COMMAND](index, dead, cap, recordPrefix);
}
