import type { FunctionConfig } from '../config/index.ts';
import type { PoolContainer } from './pool-runtime.ts';

export type ContainerState = 'starting' | 'idle' | 'busy';

/** The image and limits a container is started with: one function at one version. */
export interface PoolFunction {
  name: string;
  version: number;
  digest: string;
  config: FunctionConfig;
}

/**
 * Which containers share a V8 code cache: those of one function with one image. The digest names
 * the exact bundle; the name keeps two functions with identical images apart, since a cache is
 * bytes one of the function's own containers made and must never run in another function's.
 */
export function codeCacheKey(fn: Pick<PoolFunction, 'name' | 'digest'>): string {
  return `${fn.name}@${fn.digest}`;
}

/** A warm container as the pool sees it: which function it serves and how busy it is. */
export class PooledContainer {
  inFlight = 0;
  served = 0;
  idleSince: number;
  /** Set when a newer version was deployed or the function removed: finish in-flight work, take no more. */
  retiring = false;
  /** Started from a stem cell (specialized) rather than from the function's image. */
  fromStemCell = false;
  /** Its stem cell's replacement waits until this container's first invocation is done. */
  replenishStemCells = false;
  container: PoolContainer | undefined;

  constructor(public id: string, readonly fn: PoolFunction, readonly createdAt: number) {
    this.idleSince = createdAt;
  }

  get state(): ContainerState {
    if (!this.container) return 'starting';
    return this.inFlight > 0 ? 'busy' : 'idle';
  }

  get memoryMb(): number {
    return this.fn.config.memoryMb;
  }

  hasSlot(): boolean {
    return this.container !== undefined && this.container.alive && !this.retiring && this.inFlight < this.fn.config.concurrency;
  }

  /** Idle and healthy: may be reaped, or evicted to make room for another function. */
  isIdle(): boolean {
    return this.container !== undefined && this.inFlight === 0;
  }
}

/** A container handed to one invocation: it holds one of the container's slots until released. */
export interface Lease {
  pooled: PooledContainer;
  coldStart: boolean;
}
