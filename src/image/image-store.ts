import { chmod, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionConfig } from '../config/index.ts';
import { functionName } from '../config/index.ts';
import { BaseLayerCache, planBaseLayer } from './build/base-layer.ts';
import { maxAssetBytes } from './build/asset-rules.ts';
import { bundleFunction, sourceHost } from './build/bundle.ts';
import { functionLayerFiles } from './build/layer-files.ts';
import { writeFunctionImage } from './build/function-image.ts';
import { writeLayer } from './build/layer.ts';
import { digestHex, isDigest, sha256Digest } from './digest.ts';
import { BuildError, CorruptContentError } from './errors.ts';
import { mark, sweep } from './gc.ts';
import type { CollectionReport } from './gc.ts';
import { MEDIA_TYPE, parseManifest } from './oci.ts';
import { removeStaleTemp } from './store/atomic.ts';
import { ContentStore, hashFile } from './store/content-store.ts';
import { Pins, StoreGate } from './store/gate.ts';
import { importBlobs, type BlobSource } from './store/import-blobs.ts';
import { OciLayout } from './store/layout.ts';
import { imageLayers, readManifest } from './store/manifests.ts';
import { UnpackedLayers } from './store/unpacked-layers.ts';
import type { DiskUsage, FunctionImage, FunctionSource, ImageStoreOptions, LayerInfo, StoredImage } from './types.ts';

/** Temp files older than this are leftovers of a crash (a base layer build takes seconds). */
const STALE_TMP_MS = 60 * 60_000;

/**
 * Function images on local disk, containerd-style: a content store of blobs by digest inside an
 * OCI image layout (`<root>/oci`), plus each layer unpacked once into `<root>/layers/sha256/<diffId>`
 * for overlayfs to stack. Every write is temp + fsync + rename, so a crash leaves the store
 * valid. Images share one runtime base layer (node, libs, tini, agent) built once per host.
 *
 * @example
 * const images = new ImageStore({ root: path.join(dataDir, 'images'), agentEntry });
 * await images.init();
 * const image = await images.buildFunctionImage('hello', { kind: 'files', files: { 'index.ts': src } }, config);
 * const lowerdirs = await images.layerDirs(image.digest); // [functionLayerDir, baseLayerDir]
 */
export class ImageStore {
  readonly #agentEntry: string;
  readonly #maxAssetBytes: number;
  readonly #layout: OciLayout;
  readonly #blobs: ContentStore;
  readonly #layers: UnpackedLayers;
  readonly #tmpDir: string;
  readonly #baseCache: BaseLayerCache;
  #ready: Promise<void> | undefined;
  #base: Promise<LayerInfo> | undefined;
  /** manifest digest → layer dirs, top-most first: the pool asks on every cold start. */
  readonly #resolved = new Map<string, string[]>();
  readonly #gate = new StoreGate();
  readonly #pins = new Pins();

  constructor(opts: ImageStoreOptions) {
    const root = path.resolve(opts.root);
    this.#agentEntry = opts.agentEntry;
    this.#maxAssetBytes = opts.maxAssetBytes ?? maxAssetBytes();
    this.#layout = new OciLayout(path.join(root, 'oci'));
    this.#tmpDir = path.join(root, 'tmp');
    this.#blobs = new ContentStore(this.#layout.blobsDir, this.#tmpDir);
    this.#layers = new UnpackedLayers(path.join(root, 'layers', 'sha256'), this.#blobs, this.#tmpDir);
    this.#baseCache = new BaseLayerCache(path.join(root, 'base-layer.json'));
  }

  /** Creates the layout and directories; idempotent. Other methods call it too. */
  init(): Promise<void> {
    this.#ready ??= this.#init().catch((err: unknown) => {
      this.#ready = undefined;
      throw err;
    });
    return this.#ready;
  }

  async #init(): Promise<void> {
    await mkdir(this.#tmpDir, { recursive: true });
    await mkdir(this.#layers.dir, { recursive: true });
    // Searchable by others whatever the umask: the runtime bind-mounts this dir for runc, which
    // reaches the layer dirs in it from a container's user namespace (runtime/layer-binds.ts).
    await chmod(this.#layers.dir, 0o755);
    await this.#layout.init();
    await removeStaleTemp(this.#tmpDir, STALE_TMP_MS);
  }

  /**
   * The shared runtime layer, built on first use and then found again by its input key (also
   * across restarts); it is unpacked too. Concurrent callers share one build.
   */
  ensureBaseLayer(): Promise<LayerInfo> {
    this.#base ??= this.#ensureBase().catch((err: unknown) => {
      this.#base = undefined;
      throw err;
    });
    return this.#base;
  }

  async #ensureBase(): Promise<LayerInfo> {
    await this.init();
    const plan = await planBaseLayer(this.#agentEntry);
    let layer = await this.#baseCache.get(plan.key);
    if (!layer || (await this.#blobs.size(layer.digest)) !== layer.size) {
      layer = await writeLayer(this.#blobs, plan.entries);
      await this.#baseCache.set(plan.key, layer);
    }
    await this.#layers.unpack(layer);
    return layer;
  }

  /** The unpacked base layer's dir: a stem cell's whole rootfs (node, tini, agent; no /function). */
  async baseLayerDir(): Promise<string> {
    const base = await this.ensureBaseLayer();
    return this.#layers.dirOf(base.diffId);
  }

  /**
   * bundle → function layer → config → manifest → index.json entry, then unpacks the layers so
   * the first container does not wait. The same name, source and config always give the same
   * manifest digest. Bad user code throws BuildError. With `pin`, the image survives garbage
   * collection until `unpin()` (call it once a version names the image).
   */
  async buildFunctionImage(
    name: string,
    source: FunctionSource,
    config: FunctionConfig,
    opts: { pin?: boolean } = {},
  ): Promise<FunctionImage> {
    if (!functionName.safeParse(name).success) throw new BuildError(`invalid function name ${JSON.stringify(name)}`);
    await this.init();
    // Built and pinned under the gate: a collection never sees the image half-written or unnamed.
    return this.#gate.shared(async () => {
      const image = await this.#build(name, source, config);
      return opts.pin ? { ...image, unpin: this.#pins.pin(image.digest) } : image;
    });
  }

  async #build(name: string, source: FunctionSource, config: FunctionConfig): Promise<FunctionImage> {
    const started = performance.now();
    // Before anything starts: a bad file map throws here, not in a promise nobody awaits.
    const host = sourceHost(source);
    const [base, bundle, files] = await Promise.all([
      this.ensureBaseLayer(),
      bundleFunction(source, config.entry, config.external),
      functionLayerFiles(host, config, this.#maxAssetBytes),
    ]);
    const image = await writeFunctionImage(this.#blobs, name, base, bundle, config, files);
    const [, fnLayer] = image.layers;
    const fnDir = await this.#layers.unpack(fnLayer);
    // Last: once named in the index, the image is complete on disk.
    await this.#layout.addManifest(name, image.manifest);
    // Its first start then finds them without reading the manifest again.
    this.#resolved.set(image.manifest.digest, [fnDir, this.#layers.dirOf(base.diffId)]);
    return {
      name,
      digest: image.manifest.digest,
      configDigest: image.configDigest,
      layers: image.layers,
      bundleBytes: bundle.code.byteLength,
      assetBytes: files.reduce((sum, f) => sum + f.size, 0),
      buildMs: Math.round(performance.now() - started),
    };
  }

  /**
   * Unpacked layer dirs of an image, top-most first (overlayfs lowerdir order), unpacking any
   * that are missing. Throws if the manifest is not in the store, CorruptContentError if a blob
   * does not match its digest.
   */
  async layerDirs(manifestDigest: string): Promise<string[]> {
    const known = await this.knownLayerDirs(manifestDigest);
    if (known) return known;

    await this.init();
    if (!(await this.#blobs.has(manifestDigest))) throw new Error(`image ${manifestDigest} is not in the store`);
    const layers = await imageLayers(this.#blobs, manifestDigest);
    const topFirst = (await Promise.all(layers.map((l) => this.#layers.unpack(l)))).reverse();
    this.#resolved.set(manifestDigest, topFirst);
    return [...topFirst];
  }

  /**
   * The image's layer dirs if this store unpacked or built them since it started and they are
   * still there (a stat each), else undefined: what a container start needs, without the
   * manifest read and blob checks of `has()`.
   */
  async knownLayerDirs(manifestDigest: string): Promise<string[] | undefined> {
    digestHex(manifestDigest);
    const known = this.#resolved.get(manifestDigest);
    if (known && (await Promise.all(known.map(isDir))).every(Boolean)) return [...known];
    return undefined;
  }

  /** True when the manifest and every blob it references are stored. */
  async has(manifestDigest: string): Promise<boolean> {
    if (!isDigest(manifestDigest)) return false;
    await this.init();
    if (!(await this.#blobs.has(manifestDigest))) return false;
    try {
      const manifest = await readManifest(this.#blobs, manifestDigest);
      const refs = [manifest.config, ...manifest.layers];
      return (await Promise.all(refs.map((d) => this.#blobs.has(d.digest)))).every(Boolean);
    } catch {
      return false;
    }
  }

  /**
   * The manifest bytes and the blobs (config first, then layers) of a stored image: what a push
   * sends. JSON blobs are checked here; layer blobs by `verifyBlob` before they are uploaded.
   */
  async readImage(manifestDigest: string): Promise<StoredImage> {
    await this.init();
    const manifestBytes = await this.#blobs.read(manifestDigest);
    const manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
    const blobs = [manifest.config, ...manifest.layers];
    for (const b of blobs) {
      if ((await this.#blobs.size(b.digest)) !== b.size) throw new Error(`blob ${b.digest} of image ${manifestDigest} is missing or truncated`);
    }
    await this.#blobs.read(manifest.config.digest);
    return { digest: manifestDigest, mediaType: manifest.mediaType ?? MEDIA_TYPE.manifest, manifestBytes, blobs, path: (d) => this.#blobs.path(d) };
  }

  /**
   * Stores an image fetched from elsewhere (a registry pull): the manifest must hash to
   * `manifestDigest`; each missing blob is streamed from `fetchBlob` and refused unless it hashes
   * to its descriptor's digest. A stored blob that no longer matches its digest is fetched again.
   * Named in index.json (under `name`) last, and pinned when asked, like a build.
   */
  async importImage(
    name: string,
    manifestDigest: string,
    manifestBytes: Uint8Array,
    fetchBlob: BlobSource,
    opts: { pin?: boolean } = {},
  ): Promise<{ digest: string; fetchedBytes: number; unpin?: () => void }> {
    digestHex(manifestDigest);
    if (sha256Digest(manifestBytes) !== manifestDigest) {
      throw new CorruptContentError(manifestDigest, `manifest ${manifestDigest} is corrupt (its bytes hash to ${sha256Digest(manifestBytes)})`);
    }
    const manifest = parseManifest(JSON.parse(Buffer.from(manifestBytes).toString('utf8')));
    await this.init();
    return this.#gate.shared(async () => {
      const fetchedBytes = await importBlobs(this.#blobs, [manifest.config, ...manifest.layers], fetchBlob);
      await this.#blobs.put(manifestBytes, manifestDigest);
      this.#resolved.delete(manifestDigest);
      await this.#layout.addManifest(name, { mediaType: manifest.mediaType ?? MEDIA_TYPE.manifest, digest: manifestDigest, size: manifestBytes.byteLength });
      return { digest: manifestDigest, fetchedBytes, ...(opts.pin ? { unpin: this.#pins.pin(manifestDigest) } : {}) };
    });
  }

  /** Throws CorruptContentError unless the stored blob's bytes hash to its digest. */
  async verifyBlob(digest: string): Promise<void> {
    const actual = await hashFile(this.#blobs.path(digest));
    if (actual !== digest) throw new CorruptContentError(digest, `blob ${digest} is corrupt (its bytes hash to ${actual})`);
  }

  /**
   * Garbage collection: keeps the images `keep()` names (plus pinned ones and the runtime base layer)
   * with everything they reference; removes every other blob, unpacked layer and index entry,
   * and temp files left by crashed writers. Waits for builds and pulls in progress.
   */
  async collect(keep: () => Promise<Iterable<string>>): Promise<CollectionReport> {
    await this.init();
    const started = performance.now();
    return this.#gate.exclusive(async () => {
      // Pins first, then the caller's roots: a writer unpins only after naming its image in the
      // caller's records, so an image is always in one of the two reads.
      const pinned = this.#pins.digests();
      const roots = new Set([...pinned, ...(await keep())]);
      const base = await this.#base?.catch(() => undefined);
      const reach = await mark(this.#blobs, roots, base);
      const removedImages = await this.#layout.retain(reach.images);
      const swept = await sweep(
        { blobsDir: this.#blobs.dir, layersDir: this.#layers.dir, tmpDir: this.#tmpDir, layerBytes: (d) => this.#layers.bytes(d) },
        reach,
      );
      for (const digest of [...this.#resolved.keys()]) if (!reach.images.has(digest)) this.#resolved.delete(digest);
      this.#layers.forgetAllBut(reach.layers);
      return { keptImages: reach.images.size, removedImages, ...swept, durationMs: Math.round(performance.now() - started) };
    });
  }

  /**
   * Disk used by the store: blob bytes (compressed layers, configs, manifests) plus unpacked
   * layer bytes (apparent sizes). Cheap after the first call: unpacked layers never change.
   */
  async diskUsage(): Promise<DiskUsage> {
    await this.init();
    const blobs = await this.#blobs.usage();
    const layers = await this.#layers.usage();
    return { totalBytes: blobs.bytes + layers.bytes, blobBytes: blobs.bytes, layerBytes: layers.bytes, blobs: blobs.blobs, layers: layers.layers };
  }

  /** Compressed bytes of an image: manifest + config + layers (what a pull of it would move). */
  async imageBytes(manifestDigest: string): Promise<number | undefined> {
    try {
      const manifestBytes = await this.#blobs.read(manifestDigest);
      const manifest = parseManifest(JSON.parse(manifestBytes.toString('utf8')));
      return manifestBytes.byteLength + [manifest.config, ...manifest.layers].reduce((sum, d) => sum + d.size, 0);
    } catch {
      return undefined;
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
