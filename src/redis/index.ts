export { ManagedRedis } from './managed-redis.ts';
export { createRedis, redisOptions } from './connection.ts';
