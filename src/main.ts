import { loadSettings } from './config/index.ts';
import { Hearth } from './hearth.ts';
import { handleStopSignals } from './lifecycle/index.ts';
import { rootLogger, routeConsoleToLogger } from './log/index.ts';

/** Clean-up after the grace period (containers, connections, the managed Redis) before a stop is forced. */
const CLEANUP_ALLOWANCE_MS = 15_000;

/** `npm start` / `hearth up`: Hearth with its embedded defaults until SIGTERM / SIGINT. Logs are JSON lines (pino). */
async function main(): Promise<void> {
  const log = rootLogger();
  routeConsoleToLogger(log);
  const settings = loadSettings();
  const hearth = new Hearth(settings, (msg) => log.info(msg));
  handleStopSignals({
    stop: () => hearth.close(),
    force: () => hearth.forceClose(),
    hardLimitMs: settings.shutdownTimeoutMs + CLEANUP_ALLOWANCE_MS,
    log: log.child({ component: 'shutdown' }),
  });
  await hearth.start();
  log.info({ url: hearth.url }, `Hearth listening on ${hearth.url}`);
}

main().catch((err: unknown) => {
  // Before the logger exists (a bad HEARTH_LOG_LEVEL) this must still reach the operator.
  console.error('Hearth failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
