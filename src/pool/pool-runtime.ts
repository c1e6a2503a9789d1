import type { Container, ContainerOptions } from '../runtime/index.ts';

/**
 * The container as the pool uses it: the real `Container` satisfies it, and so does an in-memory
 * fake, so the pool's rules can be tested without runc.
 */
export type PoolContainer = Pick<
  Container,
  'id' | 'createdAt' | 'exited' | 'alive' | 'invoke' | 'invokeHttp' | 'specialize' | 'memoryBytes' | 'destroy'
>;

/** The container engine as the pool uses it (the real `Runtime` satisfies it). */
export interface PoolRuntime {
  createContainer(opts: ContainerOptions): Promise<PoolContainer>;
  /** Makes the V8 code cache of a version's bundle ahead of its first start (fire and forget). */
  prepareCodeCache?(r: { key: string; layerDirs: string[]; memoryMb: number }): void;
  /** Drops a version's code cache (its function was removed). */
  discardCodeCache?(key: string): Promise<void>;
}
