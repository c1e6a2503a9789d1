import type { ImageStore } from '../image/index.ts';
import type { ImageRegistry } from './image-registry.ts';

/** The part of a function version that says where its image is. */
export interface ImageRef {
  name: string;
  digest: string;
  /** Where the deploy pushed it, when a registry was configured. */
  image?: string;
}

export interface ImageAvailabilityOptions {
  images: Pick<ImageStore, 'has'>;
  registry: Pick<ImageRegistry, 'has'> | undefined;
  /** A registry that does not answer within this is taken as "not available" (2 s). */
  checkTimeoutMs?: number;
  /** How long a "not in the registry" answer is trusted before asking again (10 s). */
  negativeTtlMs?: number;
}

/**
 * Whether this node can get a function's image: it is in the local store, or the registry holds
 * it (a HEAD of the manifest; the pull itself happens on the first cold start). A registry's
 * "yes" is remembered (images are immutable by digest); a "no" only briefly, so a node catches up
 * when the image appears there.
 */
export class ImageAvailability {
  private readonly inRegistry = new Set<string>();
  private readonly missing = new Map<string, number>();

  constructor(private readonly opts: ImageAvailabilityOptions) {}

  async canGet(ref: ImageRef): Promise<boolean> {
    if (await this.opts.images.has(ref.digest)) return true;
    const registry = this.opts.registry;
    if (!registry) return false;
    if (this.inRegistry.has(ref.digest)) return true;
    const missingSince = this.missing.get(ref.digest);
    if (missingSince !== undefined && Date.now() - missingSince < (this.opts.negativeTtlMs ?? 10_000)) return false;
    const found = await this.ask(registry, ref);
    if (found) {
      this.inRegistry.add(ref.digest);
      this.missing.delete(ref.digest);
    } else {
      this.missing.set(ref.digest, Date.now());
    }
    return found;
  }

  private async ask(registry: Pick<ImageRegistry, 'has'>, ref: ImageRef): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.opts.checkTimeoutMs ?? 2000);
      timer.unref();
    });
    try {
      return await Promise.race([registry.has(ref.name, ref.digest, ref.image).catch(() => false), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
