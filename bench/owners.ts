/**
 * Everything the bench starts (Hearth servers, the proxy floor, Redis, its work dir) registers its
 * stop here, and is stopped in reverse order at the end, on an error, or on Ctrl-C / SIGTERM.
 */
export class Owners {
  private readonly stops: Array<{ what: string; stop: () => Promise<unknown> }> = [];
  private stopping: Promise<void> | undefined;
  /** Aborted by a signal: measurement loops check it, so they end instead of calling a stopped Hearth. */
  readonly interrupted = new AbortController();

  /** Registers `stop`; returns a function that stops it early and forgets it. */
  add(what: string, stop: () => Promise<unknown>): () => Promise<void> {
    if (this.stopping) throw new Error(`bench is stopping: not starting ${what}`);
    const entry = { what, stop };
    this.stops.push(entry);
    return async () => {
      const i = this.stops.indexOf(entry);
      if (i < 0) return;
      this.stops.splice(i, 1);
      await stop();
    };
  }

  /** Stops everything once; a second caller (the signal handler and main's finally) waits for the same run. */
  stopAll(): Promise<void> {
    this.stopping ??= (async () => {
      while (this.stops.length > 0) {
        const { what, stop } = this.stops.pop()!;
        try {
          await stop();
        } catch (err) {
          console.error(`bench: stopping ${what} failed: ${(err as Error).message}`);
        }
      }
    })();
    return this.stopping;
  }

  /**
   * A signal stops everything, then ends the process with 130. Later signals are ignored: wrappers
   * (npm, tsx) pass a Ctrl-C on as a second signal, and leaving mid-stop would leak what is running.
   * Each stop is bounded (Hearth is killed after 45 s), so the wait is too.
   */
  stopOnSignals(): void {
    const onSignal = (signal: NodeJS.Signals) => {
      if (this.interrupted.signal.aborted) return console.error(`bench: ${signal}: still stopping …`);
      this.interrupted.abort();
      console.error(`\nbench: ${signal}, stopping what it started …`);
      void this.stopAll().finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}
