import type { Logger } from 'pino';
import { flushLogs } from '../log/index.ts';

export interface StopHandlers {
  /** The orderly stop (bounded by itself). */
  stop(): Promise<void>;
  /** Immediate clean-up: containers and mounts, then connections; no waiting for invocations. */
  force(): Promise<void>;
  /** After this long an orderly stop that has not ended is forced. */
  hardLimitMs: number;
  log: Logger;
  exit?: (code: number) => void;
  /** A repeat within this long is the same request (default SAME_STOP_MS). */
  sameStopMs?: number;
}

/**
 * Under `npm start` one Ctrl-C arrives twice: the terminal signals the whole group and npm
 * forwards the signal to its child as well. A repeat this soon is the same request, not a second.
 */
const SAME_STOP_MS = 1_000;

/** What the forced clean-up itself may take before the process exits anyway. */
const FORCE_LIMIT_MS = 5_000;

/**
 * SIGTERM or SIGINT (to the process alone or to its whole group, as Ctrl-C and systemd send it)
 * starts the orderly stop; a second one, a second or more later, forces immediate clean-up and exit. Exit code 0 after an
 * orderly stop, 1 after a forced one.
 */
export function handleStopSignals(h: StopHandlers): (signal: NodeJS.Signals) => void {
  const exit = h.exit ?? ((code: number) => {
    // The last lines ("stopped", the final requests) are still in the log buffer.
    flushLogs();
    process.exit(code);
  });
  let stoppingSince: number | undefined;
  let forcing = false;
  const sameStopMs = h.sameStopMs ?? SAME_STOP_MS;
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
    if (stoppingSince !== undefined) {
      if (Date.now() - stoppingSince >= sameStopMs) force(`second ${signal}`);
      return;
    }
    const started = Date.now();
    stoppingSince = started;
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
