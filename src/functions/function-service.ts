import { z } from 'zod';
import { HearthError } from '../errors/index.ts';
import { functionConfigSchema, type FunctionConfig } from '../config/index.ts';
import type { FunctionCatalog, FunctionRecord } from '../catalog/index.ts';
import { BuildError, type FunctionSource, type ImageStore } from '../image/index.ts';
import type { Pool } from '../pool/index.ts';
import type { InvocationProducer, InvocationWorkers } from '../scheduler/index.ts';

export interface DeployRequest {
  name: string;
  source: FunctionSource;
  /** Raw config (hearth.json or the deploy body's `config`); validated here. */
  config?: unknown;
}

export interface DeployResult extends FunctionRecord {
  layers: { digest: string; size: number }[];
  buildMs: number;
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
    const source: FunctionSource = req.source.entry === undefined && config.entry !== undefined
      ? { ...req.source, entry: config.entry }
      : req.source;

    let image;
    try {
      image = await this.deps.images.buildFunctionImage(req.name, source, config);
    } catch (err) {
      if (err instanceof BuildError) throw new HearthError('invalid_request', err.message);
      throw err;
    }
    const current = opts.skipUnchanged ? await this.deps.catalog.get(req.name) : undefined;
    const record = current?.digest === image.digest ? current : await this.deps.catalog.addVersion({
      name: req.name,
      digest: image.digest,
      config,
      bundleBytes: image.bundleBytes,
    });
    this.activate(record);
    await this.deps.pool.retire(req.name, record.version);
    return {
      ...record,
      layers: image.layers.map((l) => ({ digest: l.digest, size: l.size })),
      buildMs: image.buildMs,
    };
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
    await this.deps.producer.obliterate(name);
    await this.deps.pool.retire(name);
  }
}
