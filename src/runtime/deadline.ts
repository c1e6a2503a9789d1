/**
 * Promises with a deadline. A container waits for several things that may never happen (the
 * agent's ready, a stem cell's specialized, runc's exit, its last output): none of those waits
 * may hang, and none may leave a timer behind once it is over.
 */

/**
 * A one-shot wait that someone else settles (a message handler, an exit handler), rejected with
 * `timeoutError()` if nobody does within `ms`. Settling it again is a no-op.
 */
export class DeadlineWait {
  readonly promise: Promise<void>;
  #pending = true;
  #resolve!: () => void;
  #reject!: (e: Error) => void;
  readonly #timer: NodeJS.Timeout;

  constructor(ms: number, timeoutError: () => Error) {
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    this.#timer = setTimeout(() => this.reject(timeoutError()), ms);
  }

  /** True until it is resolved, rejected or timed out. */
  get pending(): boolean {
    return this.#pending;
  }

  resolve(): void {
    if (this.#finish()) this.#resolve();
  }

  reject(e: Error): void {
    if (this.#finish()) this.#reject(e);
  }

  #finish(): boolean {
    if (!this.#pending) return false;
    this.#pending = false;
    clearTimeout(this.#timer);
    return true;
  }
}
