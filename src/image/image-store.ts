import { mkdir, readdir, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import type { FunctionConfig } from '../config/index.ts';
import { functionName } from '../config/index.ts';
import { BaseLayerCache, planBaseLayer } from './build/base-layer.ts';
import { bundleFunction } from './build/bundle.ts';
import { functionLayerEntries } from './build/function-layer.ts';
import { writeLayer } from './build/layer.ts';
import { digestHex, isDigest } from './digest.ts';
import { BuildError } from './errors.ts';
import { canonicalJson } from './json.ts';
import { MEDIA_TYPE, functionImageConfig, functionManifest, parseImageConfig, parseManifest } from './oci.ts';
import type { Descriptor, ImageManifest } from './oci.ts';
import { ContentStore } from './store/content-store.ts';
import { OciLayout } from './store/layout.ts';
import type { FunctionImage, FunctionSource, ImageStoreOptions, LayerInfo } from './types.ts';
import { unpackLayer } from './unpack/unpack-layer.ts';

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
  readonly #layout: OciLayout;
  readonly #blobs: ContentStore;
  readonly #layersDir: string;
  readonly #tmpDir: string;
  readonly #baseCache: BaseLayerCache;
  #ready: Promise<void> | undefined;
  #base: Promise<LayerInfo> | undefined;
  readonly #unpacking = new Map<string, Promise<string>>();
  /** manifest digest → layer dirs, top-most first: the pool asks on every cold start. */
  readonly #resolved = new Map<string, string[]>();

  constructor(opts: ImageStoreOptions) {
    const root = path.resolve(opts.root);
    this.#agentEntry = opts.agentEntry;
    this.#layout = new OciLayout(path.join(root, 'oci'));
    this.#tmpDir = path.join(root, 'tmp');
    this.#blobs = new ContentStore(this.#layout.blobsDir, this.#tmpDir);
    this.#layersDir = path.join(root, 'layers', 'sha256');
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
    await mkdir(this.#layersDir, { recursive: true });
    await this.#layout.init();
    await this.#removeStaleTemp();
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
    await this.#unpack(layer);
    return layer;
  }

  /** The unpacked base layer's dir: a stem cell's whole rootfs (node, tini, agent; no /function). */
  async baseLayerDir(): Promise<string> {
    const base = await this.ensureBaseLayer();
    return path.join(this.#layersDir, digestHex(base.diffId));
  }

  /**
   * bundle → function layer → config → manifest → index.json entry, then unpacks the layers so
   * the first container does not wait. The same name, source and config always give the same
   * manifest digest. Bad user code throws BuildError.
   */
  async buildFunctionImage(name: string, source: FunctionSource, config: FunctionConfig): Promise<FunctionImage> {
    const started = performance.now();
    if (!functionName.safeParse(name).success) throw new BuildError(`invalid function name ${JSON.stringify(name)}`);
    await this.init();
    const [base, bundle] = await Promise.all([this.ensureBaseLayer(), bundleFunction(source, config.entry)]);
    const fn = await writeLayer(this.#blobs, functionLayerEntries(name, bundle.code, config));
    const layers = [base, fn];

    const imageConfig = await this.#blobs.put(Buffer.from(canonicalJson(functionImageConfig(name, layers.map((l) => l.diffId)))));
    const manifest = functionManifest(
      name,
      { mediaType: MEDIA_TYPE.config, digest: imageConfig.digest, size: imageConfig.size },
      layers.map((l): Descriptor => ({ mediaType: l.mediaType, digest: l.digest, size: l.size })),
    );
    const manifestBlob = await this.#blobs.put(Buffer.from(canonicalJson(manifest)));
    await this.#unpack(fn);
    // Last: once named in the index, the image is complete on disk.
    await this.#layout.addManifest(name, { mediaType: MEDIA_TYPE.manifest, digest: manifestBlob.digest, size: manifestBlob.size });
    return {
      name,
      digest: manifestBlob.digest,
      configDigest: imageConfig.digest,
      layers,
      bundleBytes: bundle.code.byteLength,
      buildMs: Math.round(performance.now() - started),
    };
  }

  /**
   * Unpacked layer dirs of an image, top-most first (overlayfs lowerdir order), unpacking any
   * that are missing. Throws if the manifest is not in the store.
   */
  async layerDirs(manifestDigest: string): Promise<string[]> {
    digestHex(manifestDigest);
    const known = this.#resolved.get(manifestDigest);
    if (known && (await Promise.all(known.map(isDir))).every(Boolean)) return [...known];

    await this.init();
    if (!(await this.#blobs.has(manifestDigest))) throw new Error(`image ${manifestDigest} is not in the store`);
    const manifest = await this.#readManifest(manifestDigest);
    const config = parseImageConfig(JSON.parse((await this.#blobs.read(manifest.config.digest)).toString('utf8')));
    const diffIds = config.rootfs.diff_ids;
    if (diffIds.length !== manifest.layers.length) {
      throw new Error(`image ${manifestDigest}: ${manifest.layers.length} layers but ${diffIds.length} diff_ids`);
    }
    const dirs = await Promise.all(
      manifest.layers.map((l, i) => this.#unpack({ digest: l.digest, diffId: diffIds[i], size: l.size, mediaType: l.mediaType })),
    );
    const topFirst = dirs.reverse();
    this.#resolved.set(manifestDigest, topFirst);
    return [...topFirst];
  }

  /** True when the manifest and every blob it references are stored. */
  async has(manifestDigest: string): Promise<boolean> {
    if (!isDigest(manifestDigest)) return false;
    await this.init();
    if (!(await this.#blobs.has(manifestDigest))) return false;
    try {
      const manifest = await this.#readManifest(manifestDigest);
      const refs = [manifest.config, ...manifest.layers];
      return (await Promise.all(refs.map((d) => this.#blobs.has(d.digest)))).every(Boolean);
    } catch {
      return false;
    }
  }

  async #readManifest(digest: string): Promise<ImageManifest> {
    return parseManifest(JSON.parse((await this.#blobs.read(digest)).toString('utf8')));
  }

  /** The layer's unpacked dir; concurrent requests for one layer share one extraction. */
  #unpack(layer: LayerInfo): Promise<string> {
    const target = path.join(this.#layersDir, digestHex(layer.diffId));
    let pending = this.#unpacking.get(layer.diffId);
    if (!pending) {
      pending = unpackLayer({
        blobPath: this.#blobs.path(layer.digest),
        mediaType: layer.mediaType,
        digest: layer.digest,
        diffId: layer.diffId,
        target,
        tmpDir: this.#tmpDir,
      })
        .then(() => target)
        .finally(() => this.#unpacking.delete(layer.diffId));
      this.#unpacking.set(layer.diffId, pending);
    }
    return pending;
  }

  async #removeStaleTemp(): Promise<void> {
    const now = Date.now();
    for (const name of await readdir(this.#tmpDir)) {
      const p = path.join(this.#tmpDir, name);
      const st = await stat(p).catch(() => undefined);
      if (st && now - st.mtimeMs > STALE_TMP_MS) await rm(p, { recursive: true, force: true });
    }
  }
}

async function isDir(p: string): Promise<boolean> {
  return stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
