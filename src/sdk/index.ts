/** `import { HearthClient } from 'hearth'` and `import type { Handler, FetchHandler, Context } from 'hearth'`. */
export { HearthClient } from './client.ts';
export type { HearthClientOptions, DeployInput, InvokeResult } from './client.ts';
export { HearthApiError } from './errors.ts';
export type { ApiErrorCode } from './errors.ts';
export type { Context, Handler, FetchHandler } from '../types.ts';
export type { FunctionConfigInput } from '../config/index.ts';
export type {
  DeployResponse, FunctionInfo, FunctionVersionInfo, InvocationRecord, LogLine, PoolEntryInfo, ScheduleInfo,
} from '../api/index.ts';
