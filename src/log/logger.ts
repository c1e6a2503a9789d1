import { pino, type Logger, type LevelWithSilent } from 'pino';

const LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

/** The level from HEARTH_LOG_LEVEL (default info); an unknown value is an error, not a silent default. */
export function logLevelFrom(env: NodeJS.ProcessEnv = process.env): LevelWithSilent {
  const raw = (env.HEARTH_LOG_LEVEL ?? 'info').toLowerCase();
  if (!(LEVELS as readonly string[]).includes(raw)) throw new Error(`HEARTH_LOG_LEVEL must be one of ${LEVELS.join(', ')}, not ${JSON.stringify(env.HEARTH_LOG_LEVEL)}`);
  return raw as LevelWithSilent;
}

/** A JSON-lines logger on stdout (pino): one object per line with time, level, msg and fields. */
export function createLogger(level: LevelWithSilent = logLevelFrom()): Logger {
  return pino({
    level,
    base: { service: 'hearth' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // "level":"info" rather than 30: readable without pino-pretty, and what most log shippers expect.
    formatters: { level: (label) => ({ level: label }) },
  });
}

let root: Logger | undefined;

/** The process's logger, created on first use from HEARTH_LOG_LEVEL. */
export function rootLogger(): Logger {
  root ??= createLogger();
  return root;
}
