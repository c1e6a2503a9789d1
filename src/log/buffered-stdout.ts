import { pino, type DestinationStream } from 'pino';

/** Bytes gathered before a write: a few dozen request lines per write(2) under load. */
const MIN_LENGTH = 4096;
/** A quiet server's lines still reach stdout this soon. */
const FLUSH_EVERY_MS = 200;

export interface BufferedStdout {
  readonly stream: DestinationStream;
  /** Writes out whatever is buffered, synchronously: before exiting, and when the server has closed. */
  flushSync(): void;
  /** Flushes, stops the timer and the exit hook, and ends the destination (which closes its fd). */
  close(): void;
}

/**
 * Stdout for the server's JSON lines, written asynchronously and in batches (pino's sonic-boom
 * with `sync: false`): a synchronous write(2) per request line cost the warm call path about a
 * tenth of its CPU. Lines wait at most FLUSH_EVERY_MS; they are also written on process exit.
 *
 * Lines reach sonic-boom joined, once per event-loop turn, not one by one: sonic-boom appends
 * each write to its pending string and measures all of it (`Buffer.byteLength` flattens it), so
 * line by line it copied the pending kilobytes once per line — ~4 KB of garbage per request at
 * 6,000 requests/s (sampling heap profile), a quarter of what the logger allocated.
 */
export function bufferedStdout(o: { minLength?: number; flushEveryMs?: number; /** Another fd than stdout (tests). */ fd?: number } = {}): BufferedStdout {
  const boom = pino.destination({ dest: o.fd ?? 1, sync: false, minLength: o.minLength ?? MIN_LENGTH });
  const gathered: string[] = [];
  let handOverScheduled = false;
  /**
   * Ticks of the timer that still flush. A flush of an empty buffer is not free (sonic-boom writes
   * '' through the thread pool: a wake-up of an idle server every tick), so ticks flush only after
   * lines came: twice, as a flush while a write is in flight leaves the rest for the next.
   */
  let flushTicks = 0;
  const handOver = (): void => {
    handOverScheduled = false;
    if (gathered.length === 0) return;
    const text = gathered.join('');
    gathered.length = 0;
    flushTicks = 2;
    flushQuietly(() => boom.write(text));
  };
  const stream: DestinationStream = {
    write(line: string) {
      gathered.push(line);
      if (handOverScheduled) return;
      handOverScheduled = true;
      setImmediate(handOver);
    },
  };
  const flushSync = (): void => {
    handOver();
    flushQuietly(() => boom.flushSync());
  };
  const timer = setInterval(() => {
    if (flushTicks === 0) return;
    flushTicks--;
    flushQuietly(() => boom.flush());
  }, o.flushEveryMs ?? FLUSH_EVERY_MS);
  // The timer never keeps the process alive; the exit hook writes what is left.
  timer.unref();
  process.once('exit', flushSync);
  return {
    stream,
    flushSync,
    close: () => {
      flushSync();
      clearInterval(timer);
      process.off('exit', flushSync);
      boom.end();
    },
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
