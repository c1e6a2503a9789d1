/**
 * Writers (builds, pulls) share the store; garbage collection needs it alone, so it never sees a
 * blob that is written but not yet named by any image. Writers that arrive while a collection
 * runs wait for it; a collection waits for writers in progress. Both sides are short.
 */
export class StoreGate {
  #writers = 0;
  #collecting: Promise<void> | undefined;
  #idle: (() => void)[] = [];

  /** Runs `task` alongside other writers, never during a collection. */
  async shared<T>(task: () => Promise<T>): Promise<T> {
    while (this.#collecting) await this.#collecting;
    this.#writers++;
    try {
      return await task();
    } finally {
      this.#writers--;
      if (this.#writers === 0) for (const wake of this.#idle.splice(0)) wake();
    }
  }

  /** Runs `task` alone: waits for writers in progress, holds new ones back until it is done. */
  async exclusive<T>(task: () => Promise<T>): Promise<T> {
    while (this.#collecting) await this.#collecting;
    let done!: () => void;
    this.#collecting = new Promise<void>((resolve) => (done = resolve));
    try {
      if (this.#writers > 0) await new Promise<void>((resolve) => this.#idle.push(resolve));
      return await task();
    } finally {
      this.#collecting = undefined;
      done();
    }
  }
}

/** Reference counts of digests that must survive a collection although no version names them yet. */
export class Pins {
  readonly #counts = new Map<string, number>();

  /** Pins `digest`; the returned function unpins it (once). */
  pin(digest: string): () => void {
    this.#counts.set(digest, (this.#counts.get(digest) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const n = (this.#counts.get(digest) ?? 1) - 1;
      if (n <= 0) this.#counts.delete(digest);
      else this.#counts.set(digest, n);
    };
  }

  digests(): string[] {
    return [...this.#counts.keys()];
  }
}
