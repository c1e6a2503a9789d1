import { pino, type DestinationStream, type Logger, type LevelWithSilent } from 'pino';
import { bufferedStdout, type BufferedStdout } from './buffered-stdout.ts';
import { pinoIsoTime } from './iso-time.ts';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The level from HEARTH_LOG_LEVEL (default info); an unknown value is an error, not a silent default. */
export function logLevelFrom(env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const raw = (env.HEARTH_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(raw)) throw new Error(`HEARTH_LOG_LEVEL must be one of ${LEVELS.join(', ')}, not ${JSON.stringify(env.HEARTH_LOG_LEVEL)}`);
  return raw as LevelWithSilent;
}

/**
 * A JSON-lines logger (pino): one object per line with time, level, msg and fields. On stdout,
 * written synchronously, unless another destination is given.
 */
export function createLogger(level: LevelWithSilent = logLevelFrom(), destination?: DestinationStream): Logger {
  const options = {
    level,
    base: { service: 'hearth' },
    timestamp: pinoIsoTime,
    // "level":"info" rather than 30: readable without pino-pretty, and what most log shippers expect.
    formatters: { level: (label: string) => ({ level: label }) },
  };
  return destination ? pino(options, destination) : pino(options);
}

let root: Logger | undefined;
let rootOut: BufferedStdout | undefined;

/** The process's logger, created on first use from HEARTH_LOG_LEVEL, on buffered stdout. */
export function rootLogger(): Logger {
  if (!root) {
    const level = logLevelFrom();
    rootOut = bufferedStdout();
    root = createLogger(level, rootOut.stream);
  }
  return root;
}

/** Writes out the process logger's buffered lines now (before exit, after the server has closed). */
export function flushLogs(): void {
  rootOut?.flushSync();
}
