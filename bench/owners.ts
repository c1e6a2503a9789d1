/**
 * Everything the bench starts (Hearth servers, the proxy floor, Redis) registers its stop here,
 * and is stopped in reverse order at the end, on an error, or on Ctrl-C / SIGTERM.
 */
export class Owners {
  private readonly stops: Array<{ what: string; stop: () => Promise<unknown> }> = [];

  /** Registers `stop`; returns a function that stops it early and forgets it. */
  add(what: string, stop: () => Promise<unknown>): () => Promise<void> {
    const entry = { what, stop };
    this.stops.push(entry);
    return async () => {
      const i = this.stops.indexOf(entry);
      if (i < 0) return;
      this.stops.splice(i, 1);
      await stop();
    };
  }

  async stopAll(): Promise<void> {
    while (this.stops.length > 0) {
      const { what, stop } = this.stops.pop()!;
      try {
        await stop();
      } catch (err) {
        console.error(`bench: stopping ${what} failed: ${(err as Error).message}`);
      }
    }
  }

  /** A signal stops everything first, then ends the process (a second signal ends it at once). */
  stopOnSignals(): void {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals) => {
      if (stopping) process.exit(130);
      stopping = true;
      console.error(`\nbench: ${signal}, stopping what it started …`);
      void this.stopAll().finally(() => process.exit(130));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
}
