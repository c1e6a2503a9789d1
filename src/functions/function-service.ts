import { z } from 'zod';
import { HearthError } from '../errors/index.ts';
import { functionConfigSchema, type FunctionConfig } from '../config/index.ts';
import type { FunctionCatalog, FunctionRecord, FunctionVersion } from '../catalog/index.ts';
import { BuildError, type CollectionReport, type DiskUsage, type FunctionSource, type ImageStore } from '../image/index.ts';
import type { ImageRegistry, PushedImage } from './image-registry.ts';
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
    },
  ) {}

  /**
   * Builds and records a new version. With `skipUnchanged`, a build whose image digest equals the
   * current version's keeps that version (used when `npm start` re-deploys `functions/`).
   */
  async deploy(req: DeployRequest, opts: { skipUnchanged?: boolean } = {}): Promise<DeployResult> {
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
      if (err instanceof BuildError) throw new HearthError('invalid_request', err.message);
      throw err;
    }
    try {
      const current = opts.skipUnchanged ? await this.deps.catalog.get(req.name) : undefined;
      const unchanged = current?.digest === image.digest;
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
      await this.deps.schedules?.sync(req.name, record.config);
      await this.deps.pool.retire(req.name, record.version);
      return {
        ...record,
        layers: image.layers.map((l) => ({ digest: l.digest, size: l.size })),
        buildMs: image.buildMs,
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

  /** Makes sure a worker takes the function's invocations (after a deploy, or at start for every known function). */
  activate(record: FunctionRecord): void {
    this.deps.workers.ensure(record.name, record.config.maxContainers * record.config.concurrency);
    this.deps.pool.keepWarm({ name: record.name, version: record.version, digest: record.digest, config: record.config });
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
    await this.deps.workers.remove(name);
    await this.deps.schedules?.removeAll(name);
    await this.deps.store?.forgetFunction(name);
    await this.deps.producer.obliterate(name);
    await this.deps.pool.retire(name);
    // Frees the function's storage now; layers under containers still finishing stay until the next run.
    await this.deps.collector?.run().catch((err: Error) => this.deps.log?.(`image gc after removing ${name} failed: ${err.message}`));
  }
}
