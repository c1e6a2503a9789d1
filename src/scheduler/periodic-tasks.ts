/**
 * The dispatcher's timers: each task runs every `ms`, never overlapping itself, and stops with
 * `close()`. A task marked `whileClosing` (lock renewal) keeps running after `closing()` until
 * `close()`, so jobs still in flight keep their locks while the node waits for them.
 */
export class PeriodicTasks {
  private readonly timers: NodeJS.Timeout[] = [];
  private isClosing = false;

  constructor(private readonly onError: (err: Error) => void) {}

  every(ms: number, task: () => Promise<unknown>, o: { whileClosing?: boolean } = {}): void {
    let running = false;
    const timer = setInterval(() => {
      if (running || (this.isClosing && !o.whileClosing)) return;
      running = true;
      task().catch((err: Error) => this.onError(err)).finally(() => {
        running = false;
      });
    }, ms);
    timer.unref();
    this.timers.push(timer);
  }

  /** Only the `whileClosing` tasks run from now on. */
  closing(): void {
    this.isClosing = true;
  }

  close(): void {
    this.isClosing = true;
    for (const t of this.timers) clearInterval(t);
    this.timers.length = 0;
  }
}
