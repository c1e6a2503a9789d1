import { format } from 'node:util';
import type { Logger } from 'pino';

/**
 * Sends console output to the JSON logger, so every line the server prints is JSON: libraries
 * (ioredis' "Unhandled error event", BullMQ's last-resort `console.error`) write to the console
 * in plain text with stack traces. The server calls it once at start; tests never do.
 */
export function routeConsoleToLogger(logger: Logger): void {
  const log = logger.child({ component: 'console' });
  console.log = (...args: unknown[]) => log.info(format(...args));
  console.info = (...args: unknown[]) => log.info(format(...args));
  console.warn = (...args: unknown[]) => log.warn(format(...args));
  console.error = (...args: unknown[]) => log.error(format(...args));
}
