export { HearthError, errorStatus, isErrorCode } from './hearth-error.ts';
export type { ErrorCode, HearthErrorOptions } from './hearth-error.ts';
export { isRedisFull, redisFullError } from './redis-full.ts';
