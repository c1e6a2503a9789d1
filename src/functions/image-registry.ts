import {
  RegistryClient,
  imageReference,
  parseImageReference,
  parseRegistry,
  pullImage,
  pushImage,
  repositoryFor,
} from '../image/index.ts';
import type { Credentials, ImageStore, PullReport, PushReport, RegistryLocation } from '../image/index.ts';

export interface PushedImage extends PushReport {
  /** "host:port/repo@sha256:…" */
  reference: string;
}

/**
 * Hearth's use of one registry (`HEARTH_REGISTRY`): functions live in `<prefix>/<name>`; an image
 * is pushed by digest on deploy and tagged `v<version>` once the version exists; a Hearth whose
 * store lacks an image pulls it by digest.
 */
export class ImageRegistry {
  readonly location: RegistryLocation;
  readonly #client: RegistryClient;
  /** blob digest → a repository of this registry that holds it (for cross-repository mounts). */
  readonly #knownAt = new Map<string, string>();
  readonly #pulls = new Map<string, Promise<PullReport>>();

  constructor(private readonly images: ImageStore, registry: string, credentials?: Credentials) {
    this.location = parseRegistry(registry);
    this.#client = new RegistryClient({ location: this.location, ...(credentials ? { credentials } : {}) });
  }

  async push(name: string, digest: string): Promise<PushedImage> {
    const repository = repositoryFor(this.location, name);
    const image = await this.images.readImage(digest);
    const report = await pushImage(this.#client, image, repository, {
      knownAt: this.#knownAt,
      verifyBlob: (d) => this.images.verifyBlob(d),
    });
    return { ...report, reference: imageReference(this.location, repository, digest) };
  }

  /** Tags a pushed image with its version number (a manifest PUT of a few hundred bytes). */
  async tag(name: string, digest: string, version: number): Promise<void> {
    const image = await this.images.readImage(digest);
    await this.#client.putManifest(repositoryFor(this.location, name), `v${version}`, image.manifestBytes, image.mediaType);
  }

  /** Whether the registry holds the image (a HEAD of its manifest), where `pull` would look for it. */
  has(name: string, digest: string, reference?: string): Promise<boolean> {
    return this.#client.hasManifest(this.#repositoryOf(name, reference), digest);
  }

  #repositoryOf(name: string, reference?: string): string {
    const parsed = reference ? parseImageReference(reference) : undefined;
    return parsed && parsed.host === this.location.host ? parsed.repository : repositoryFor(this.location, name);
  }

  /**
   * Pulls an image by digest from the repository `reference` names (or the function's own),
   * pinned so a collection cannot take it before it is used. Concurrent pulls of one digest
   * share one transfer.
   */
  pull(name: string, digest: string, reference?: string): Promise<PullReport> {
    let pending = this.#pulls.get(digest);
    if (!pending) {
      pending = pullImage(this.#client, this.images, name, this.#repositoryOf(name, reference), digest).finally(() => this.#pulls.delete(digest));
      this.#pulls.set(digest, pending);
    }
    return pending;
  }
}
