import { pino, type DestinationStream } from 'pino';

/** Bytes gathered before a write: a few dozen request lines per write(2) under load. */
const MIN_LENGTH = 4096;
/** A quiet server's lines still reach stdout this soon. */
const FLUSH_EVERY_MS = 200;

export interface BufferedStdout {
  readonly stream: DestinationStream;
  /** Writes out whatever is buffered, synchronously: before exiting, and when the server has closed. */
  flushSync(): void;
}

/**
 * Stdout for the server's JSON lines, written asynchronously and in batches (pino's sonic-boom
 * with `sync: false`): a synchronous write(2) per request line cost the warm call path about a
 * tenth of its CPU. Lines wait at most FLUSH_EVERY_MS; pino also flushes them on process exit.
 */
export function bufferedStdout(o: { minLength?: number; flushEveryMs?: number } = {}): BufferedStdout {
  const stream = pino.destination({ dest: 1, sync: false, minLength: o.minLength ?? MIN_LENGTH });
  const timer = setInterval(() => flushQuietly(() => stream.flush()), o.flushEveryMs ?? FLUSH_EVERY_MS);
  // The timer never keeps the process alive; the exit hook writes what is left.
  timer.unref();
  return {
    stream,
    flushSync: () => flushQuietly(() => stream.flushSync()),
  };
}

/** Before the destination has opened, or after stdout went away, there is nothing to flush to. */
function flushQuietly(flush: () => void): void {
  try {
    flush();
  } catch {
    // not ready yet, or destroyed (EPIPE): logging must never take the server down
  }
}
