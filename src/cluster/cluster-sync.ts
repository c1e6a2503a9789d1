import type { FunctionRecord } from '../catalog/index.ts';
import type { ChangeFeedHandlers, ClusterChange } from './change-feed.ts';

/** What applying a change needs from the rest of the node. */
export interface ClusterSyncDeps {
  catalog: {
    invalidate(name: string): void;
    invalidateAll(): void;
    get(name: string): Promise<FunctionRecord | undefined>;
    list(): Promise<FunctionRecord[]>;
  };
  functions: {
    sync(record: FunctionRecord): Promise<void>;
    forget(name: string): Promise<void>;
    activeFunctions(): string[];
    unavailableFunctions(): string[];
    isUnavailable(name: string): boolean;
  };
  /** Retires the warm containers of a function (they hold the secret files they started with). */
  recycle(name: string): Promise<void>;
  /** After a change was applied: e.g. a heartbeat, so the node list shows it at once. */
  afterChange?: () => void;
}

/**
 * Applies other nodes' changes to this node. A function change re-reads the function's record:
 * workers start, adjust or stop, containers of other versions retire. A secret change recycles
 * the containers of every function that mounts the secret. A resync does all of that for
 * everything, since what was missed is unknown.
 */
export class ClusterSync implements ChangeFeedHandlers {
  constructor(private readonly deps: ClusterSyncDeps) {}

  async apply(change: ClusterChange): Promise<void> {
    if (change.kind === 'function') await this.applyFunction(change.name);
    else await this.applySecret(change.name);
    this.deps.afterChange?.();
  }

  private async applyFunction(name: string): Promise<void> {
    this.deps.catalog.invalidate(name);
    const record = await this.deps.catalog.get(name);
    if (record) await this.deps.functions.sync(record);
    else await this.deps.functions.forget(name);
  }

  private async applySecret(name: string): Promise<void> {
    for (const fn of await this.deps.catalog.list()) {
      if (fn.config.secrets?.includes(name)) await this.deps.recycle(fn.name);
    }
  }

  async resync(): Promise<void> {
    this.deps.catalog.invalidateAll();
    const records = await this.deps.catalog.list();
    const known = new Set(records.map((r) => r.name));
    for (const record of records) {
      await this.deps.functions.sync(record);
      // Which secret changed is unknown: containers that mount any secret start over.
      if ((record.config.secrets?.length ?? 0) > 0) await this.deps.recycle(record.name);
    }
    for (const name of [...this.deps.functions.activeFunctions(), ...this.deps.functions.unavailableFunctions()]) {
      if (!known.has(name)) await this.deps.functions.forget(name);
    }
    this.deps.afterChange?.();
  }

  /** Looks again at functions whose image could not be had: it may be in the registry by now. */
  async recheckUnavailable(): Promise<void> {
    for (const name of this.deps.functions.unavailableFunctions()) {
      const record = await this.deps.catalog.get(name);
      if (record) await this.deps.functions.sync(record);
      else await this.deps.functions.forget(name);
    }
  }
}
