import { z } from 'zod';
import { HearthError } from '../errors/index.ts';
import { functionConfigSchema, type FunctionConfig } from '../config/index.ts';
import type { FunctionCatalog, FunctionRecord, FunctionVersion } from '../catalog/index.ts';
import { AssetsTooLargeError, BuildError, type CollectionReport, type DiskUsage, type FunctionSource, type ImageStore } from '../image/index.ts';
import type { ImageRegistry, PushedImage } from './image-registry.ts';
import type { ImageAvailability } from './image-availability.ts';
import type { StorageCollector } from './storage-collector.ts';
import type { Pool } from '../pool/index.ts';
import type { InvocationProducer, InvocationWorkers } from '../scheduler/index.ts';
import { validateSchedule, type InvocationStore, type ScheduleService } from '../scheduler/index.ts';

export interface DeployRequest {
  name: string;
  source: FunctionSource;
  /** Raw config (hearth.json or the deploy body's `config`); validated here. */
  config?: unknown;
}

export interface DeployResult extends FunctionRecord {
  layers: { digest: string; size: number }[];
  buildMs: number;
  /** Uncompressed bytes of the files beside the bundle (assets, `external` packages). */
  assetBytes: number;
  /** The source and config built to the current version's image: nothing changed, no version was added. */
  unchanged: boolean;
  /** Set when HEARTH_REGISTRY is: where the image went and what the push moved. */
  registry?: Omit<PushedImage, 'repository'> & { tagged: boolean; tagError?: string };
}

/** `GET /v1/functions/:name`: the record plus what the function's image costs on disk. */
export interface FunctionDescription extends FunctionRecord {
  storage: {
    /** Compressed bytes of the current version's image (manifest, config, layers). */
    imageBytes: number | null;
    /** Everything the image store holds, all functions together. */
    store: DiskUsage;
  };
}

export interface VersionEntry extends FunctionVersion {
  current: boolean;
}

export interface GcResult extends CollectionReport {
  store: DiskUsage;
}

/** Turns a zod failure into one readable line per problem: "config.memoryMb: expected number". */
export function describeZodError(err: z.ZodError, root = ''): string {
  return err.issues
    .map((i) => `${[root, ...i.path.map(String)].filter(Boolean).join('.') || '(body)'}: ${i.message}`)
    .join('; ');
}

/**
 * Deploy, describe, list and remove functions. A deploy builds the image, records a new version,
 * makes sure a worker serves the function's queue and retires warm containers of older versions.
 */
export class FunctionService {
  constructor(
    private readonly deps: {
      catalog: FunctionCatalog;
      images: ImageStore;
      workers: InvocationWorkers;
      producer: InvocationProducer;
      pool: Pool;
      registry?: ImageRegistry | undefined;
      collector?: StorageCollector | undefined;
      log?: (msg: string) => void;
      schedules?: ScheduleService;
      store?: InvocationStore;
      /** Whether this node can get an image; without it every image counts as obtainable (one node). */
      availability?: ImageAvailability;
      /** Tells the other nodes that the function changed (deploy, rollback, removal). */
      announce?: (name: string) => Promise<void>;
      /** Resolves once Redis replicas hold what was written (HEARTH_REDIS_WAIT_REPLICAS); throws `unavailable` if they do not. */
      replicated?: () => Promise<void>;
    },
  ) {}

  /** Functions this node serves (workers running). */
  readonly #active = new Set<string>();
  /** Functions whose image this node cannot get: it runs none of their jobs. */
  readonly #unavailable = new Set<string>();

  /**
   * Builds and records a new version. A build whose image digest equals the current version's
   * (same source, same config) keeps that version and says `unchanged: true`, from any node.
   */
  async deploy(req: DeployRequest): Promise<DeployResult> {
    const parsed = functionConfigSchema.safeParse(req.config ?? {});
    if (!parsed.success) throw new HearthError('invalid_request', describeZodError(parsed.error, 'config'));
    const config: FunctionConfig = parsed.data;
    if (config.name !== undefined && config.name !== req.name) {
      throw new HearthError('invalid_request', `config.name "${config.name}" does not match the function name "${req.name}"`);
    }
    for (const schedule of config.schedules) validateSchedule(schedule);
    const source: FunctionSource = req.source.entry === undefined && config.entry !== undefined
      ? { ...req.source, entry: config.entry }
      : req.source;

    let image;
    try {
      // Pinned until a version names it: a collection running meanwhile must not take it.
      image = await this.deps.images.buildFunctionImage(req.name, source, config, { pin: true });
    } catch (err) {
      if (err instanceof AssetsTooLargeError) throw new HearthError('payload_too_large', err.message);
      if (err instanceof BuildError) throw new HearthError('invalid_request', err.message);
      throw err;
    }
    try {
      const current = await this.deps.catalog.get(req.name);
      const unchanged = current !== undefined && current.digest === image.digest;
      // Push before recording: a version exists only once its image is where other Hearths look.
      const pushed = this.deps.registry && !(unchanged && current?.image) ? await this.#push(req.name, image.digest) : undefined;
      const record = unchanged && current ? current : await this.deps.catalog.addVersion({
        name: req.name,
        digest: image.digest,
        config,
        bundleBytes: image.bundleBytes,
        ...(pushed ? { image: pushed.reference } : {}),
      });
      let registry: DeployResult['registry'];
      if (pushed) {
        const { repository: _repository, ...push } = pushed;
        registry = { ...push, tagged: true };
        await this.deps.registry!.tag(req.name, image.digest, record.version).catch((err: Error) => {
          registry = { ...push, tagged: false, tagError: err.message };
          this.deps.log?.(`deploy ${req.name} v${record.version}: tag failed: ${err.message}`);
        });
      }
      this.activate(record);
      if (!unchanged) {
        await this.deps.schedules?.sync(req.name, record.config);
        await this.deps.pool.retire(req.name, record.version);
        await this.#announce(req.name);
      }
      await this.deps.replicated?.();
      return {
        ...record,
        unchanged,
        layers: image.layers.map((l) => ({ digest: l.digest, size: l.size })),
        buildMs: image.buildMs,
        assetBytes: image.assetBytes,
        ...(registry ? { registry } : {}),
      };
    } finally {
      image.unpin?.();
    }
  }

  async #push(name: string, digest: string): Promise<PushedImage> {
    try {
      return await this.deps.registry!.push(name, digest);
    } catch (err) {
      throw new HearthError(
        'internal',
        `deploy of ${name} failed, no version was recorded: could not push ${digest}: ${(err as Error).message}`,
      );
    }
  }

  /**
   * Makes version `version` current again. New invocations run it; warm containers of every other
   * version finish what they are doing and are reaped, never reused.
   */
  async rollback(name: string, version: number): Promise<FunctionRecord> {
    const record = await this.deps.catalog.setCurrent(name, version);
    if (!record) {
      if (!(await this.deps.catalog.get(name))) throw new HearthError('not_found', `function ${name} does not exist`);
      throw new HearthError('not_found', `version ${version} of function ${name} does not exist`);
    }
    this.activate(record);
    // The schedules follow the version's config.
    await this.deps.schedules?.sync(name, record.config);
    await this.deps.pool.retire(name, record.version);
    await this.#announce(name);
    return record;
  }

  /** Every version of the function, oldest first, marking the current one. */
  async versions(name: string): Promise<VersionEntry[]> {
    const current = await this.get(name);
    const all = await this.deps.catalog.listVersions(name);
    return all.map((v) => ({ ...v, current: v.version === current.version }));
  }

  async describe(name: string): Promise<FunctionDescription> {
    const record = await this.get(name);
    const [imageBytes, store] = await Promise.all([this.deps.images.imageBytes(record.digest), this.deps.images.diskUsage()]);
    return { ...record, storage: { imageBytes: imageBytes ?? null, store } };
  }

  /** One garbage collection now (also what the schedule runs), and the store's size after it. */
  async collectGarbage(): Promise<GcResult> {
    if (!this.deps.collector) throw new HearthError('internal', 'garbage collection is not configured');
    const report = await this.deps.collector.run();
    return { ...report, store: await this.deps.images.diskUsage() };
  }

  /** Bytes the image store uses: the number `/metrics` reports. */
  diskUsage(): Promise<DiskUsage> {
    return this.deps.images.diskUsage();
  }

  /** Makes sure a worker takes the function's invocations (after a deploy on this node, whose image is here). */
  activate(record: FunctionRecord): void {
    this.#unavailable.delete(record.name);
    this.#active.add(record.name);
    this.deps.workers.ensure(record.name, record.config.maxContainers * record.config.concurrency);
    // Its first call (admission counts its queue) then finds the queue set up.
    this.deps.producer.prepare(record.name);
    this.deps.pool.keepWarm({ name: record.name, version: record.version, digest: record.digest, config: record.config });
  }

  /**
   * Whether this node can run the function: its image is here or in the registry. The dispatcher
   * asks before taking a job; a node that cannot get the image leaves the job to the others.
   */
  async canRun(record: Pick<FunctionRecord, 'name' | 'digest' | 'image'>): Promise<boolean> {
    return this.deps.availability ? this.deps.availability.canGet(record) : true;
  }

  /** Functions this node cannot run now (see canRun), reported with the node's heartbeat. */
  unavailableFunctions(): string[] {
    return [...this.#unavailable];
  }

  /** Whether this node found it cannot get the function's image (cheap: no I/O). */
  isUnavailable(name: string): boolean {
    return this.#unavailable.has(name);
  }

  /** Functions this node serves now. */
  activeFunctions(): string[] {
    return [...this.#active];
  }

  /**
   * Brings this node in line with the function's current record, wherever it was changed:
   * workers start or adjust when the image can be had here, stop when it cannot; warm
   * containers of every other version retire.
   */
  async sync(record: FunctionRecord): Promise<void> {
    if (await this.canRun(record)) {
      this.activate(record);
      await this.deps.pool.retire(record.name, record.version);
    } else {
      await this.deactivate(record.name);
      this.#unavailable.add(record.name);
      this.deps.log?.(`function ${record.name} v${record.version}: image ${record.digest} cannot be had on this node; leaving its work to other nodes`);
    }
  }

  /** This node stops serving the function (its workers close; the queue and the record stay). */
  async deactivate(name: string): Promise<void> {
    this.#active.delete(name);
    await this.deps.workers.remove(name);
    await this.deps.pool.retire(name);
  }

  /** The function was removed on another node: stop serving it and forget it here. */
  async forget(name: string): Promise<void> {
    this.#unavailable.delete(name);
    await this.deactivate(name);
  }

  async #announce(name: string): Promise<void> {
    // The change is made and applied here; a lost notice is caught by the other nodes' counter check.
    await this.deps.announce?.(name).catch((err: Error) => this.deps.log?.(`could not announce the change of ${name} to other nodes: ${err.message}`));
  }

  async get(name: string): Promise<FunctionRecord> {
    const record = await this.deps.catalog.get(name);
    if (!record) throw new HearthError('not_found', `function ${name} does not exist`);
    return record;
  }

  list(): Promise<FunctionRecord[]> {
    return this.deps.catalog.list();
  }

  /** Removes the function: its record, queue (pending invocations included) and containers. */
  async remove(name: string): Promise<void> {
    const removed = await this.deps.catalog.remove(name);
    if (!removed) throw new HearthError('not_found', `function ${name} does not exist`);
    this.#active.delete(name);
    this.#unavailable.delete(name);
    await this.deps.workers.remove(name);
    await this.deps.schedules?.removeAll(name);
    await this.deps.store?.forgetFunction(name);
    await this.deps.producer.obliterate(name);
    await this.deps.pool.retire(name);
    await this.#announce(name);
    // Frees the function's storage now; layers under containers still finishing stay until the next run.
    await this.deps.collector?.run().catch((err: Error) => this.deps.log?.(`image gc after removing ${name} failed: ${err.message}`));
  }
}
