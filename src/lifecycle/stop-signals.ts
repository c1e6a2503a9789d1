import type { Logger } from 'pino';

export interface StopHandlers {
  /** The orderly stop (bounded by itself). */
  stop(): Promise<void>;
  /** Immediate clean-up: containers and mounts, then connections; no waiting for invocations. */
  force(): Promise<void>;
  /** After this long an orderly stop that has not ended is forced. */
  hardLimitMs: number;
  log: Logger;
  exit?: (code: number) => void;
}

/** What the forced clean-up itself may take before the process exits anyway. */
const FORCE_LIMIT_MS = 5_000;

/**
 * SIGTERM or SIGINT (to the process alone or to its whole group, as Ctrl-C and systemd send it)
 * starts the orderly stop; a second one forces immediate clean-up and exit. Exit code 0 after an
 * orderly stop, 1 after a forced one.
 */
export function handleStopSignals(h: StopHandlers): (signal: NodeJS.Signals) => void {
  const exit = h.exit ?? ((code: number) => process.exit(code));
  let stopping = false;
  let forcing = false;
  const force = (why: string) => {
    if (forcing) return;
    forcing = true;
    h.log.warn({ why }, 'forcing stop: removing containers and mounts now');
    const limit = setTimeout(() => {
      h.log.error({ limitMs: FORCE_LIMIT_MS }, 'forced clean-up did not end in time, exiting');
      exit(1);
    }, FORCE_LIMIT_MS);
    limit.unref();
    h.force().then(
      () => h.log.info('forced stop complete'),
      (err: unknown) => h.log.error({ err: err instanceof Error ? err.message : String(err) }, 'forced clean-up failed'),
    ).finally(() => {
      clearTimeout(limit);
      exit(1);
    });
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      force(`second ${signal}`);
      return;
    }
    stopping = true;
    const started = Date.now();
    h.log.info({ signal, timeoutMs: h.hardLimitMs }, 'stopping: no new requests or jobs; in-flight invocations get the grace period');
    const limit = setTimeout(() => force(`stop not done after ${h.hardLimitMs} ms`), h.hardLimitMs);
    limit.unref();
    h.stop().then(
      () => {
        clearTimeout(limit);
        if (forcing) return;
        h.log.info({ ms: Date.now() - started }, 'stopped');
        exit(0);
      },
      (err: unknown) => {
        clearTimeout(limit);
        h.log.error({ err: err instanceof Error ? err.message : String(err) }, 'stop failed');
        force('stop failed');
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return onSignal;
}
