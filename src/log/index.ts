export { createLogger, flushLogs, logLevelFrom, rootLogger } from './logger.ts';
export { logInvocation, requestLog } from './request-log.ts';
export type { Logger } from 'pino';
export { routeConsoleToLogger } from './console-capture.ts';
export { isoTime, pinoIsoTime } from './iso-time.ts';
export { RepeatFilter } from './repeat-filter.ts';
