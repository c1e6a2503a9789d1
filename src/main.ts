import { loadSettings } from './config/index.ts';
import { Hearth } from './hearth.ts';
import { rootLogger, routeConsoleToLogger } from './log/index.ts';

/** `npm start` / `hearth up`: Hearth with its embedded defaults until SIGTERM / SIGINT. Logs are JSON lines (pino). */
async function main(): Promise<void> {
  const log = rootLogger();
  routeConsoleToLogger(log);
  const hearth = new Hearth(loadSettings(), (msg) => log.info(msg));
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'finishing in-flight invocations and removing containers');
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    hearth.close().then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  await hearth.start();
  log.info({ url: hearth.url }, `Hearth listening on ${hearth.url}`);
}

main().catch((err: unknown) => {
  // Before the logger exists (a bad HEARTH_LOG_LEVEL) this must still reach the operator.
  console.error('Hearth failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
