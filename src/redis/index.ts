export { ManagedRedis, type ManagedRedisState, type ManagedRedisOptions } from './managed-redis.ts';
export { closeRedisClient, createRedis, logClientErrors, reconnectDelayMs, redisOptions } from './connection.ts';
export { RedisHealth } from './redis-health.ts';
export { checkPersistence, persistenceWarnings } from './persistence-check.ts';
export { managedRedisArgs, type ManagedRedisConfig } from './managed-args.ts';
export { redisServersFor, isAlive } from './process-table.ts';
export { restartDelayMs } from './restart-backoff.ts';
export { parseSentinelUrl, sentinelOptions, type SentinelTarget } from './sentinel-url.ts';
export { ReplicaAck, replicaShortfall, type ReplicaAckOptions } from './replica-ack.ts';
