export { HearthError, errorStatus, isErrorCode } from './hearth-error.ts';
export type { ErrorCode } from './hearth-error.ts';
