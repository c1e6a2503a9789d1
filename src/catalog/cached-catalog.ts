import type { Redis } from 'ioredis';
import { FunctionCatalog, type FunctionRecord, type FunctionVersion } from './catalog.ts';

/** Belt and braces: even if an invalidation is lost, a cached record is re-read after this. */
const MAX_AGE_MS = 5000;

interface Entry {
  record: FunctionRecord | undefined;
  at: number;
}

/**
 * The catalog with an in-process cache of current records and (immutable) versions, so the
 * gateway and the executor do not each read Redis on every invocation. Deploys, rollbacks and removals
 * publish the function's name on `<prefix>:catalog`; every process drops its copy on that message,
 * and drops everything when its subscriber reconnects (messages may have been missed meanwhile).
 */
export class CachedCatalog extends FunctionCatalog {
  private readonly current = new Map<string, Entry>();
  private readonly versions = new Map<string, FunctionVersion>();
  /** Bumped on every invalidation: a read that started before it must not fill the cache. */
  private readonly generation = new Map<string, number>();
  private readonly channel: string;

  constructor(
    private readonly publisher: Redis,
    private readonly subscriber: Redis,
    prefix = 'hearth',
  ) {
    super(publisher, prefix);
    this.channel = `${prefix}:catalog`;
  }

  async start(): Promise<void> {
    this.subscriber.on('message', (channel: string, name: string) => {
      if (channel === this.channel) this.invalidate(name);
    });
    this.subscriber.on('ready', () => this.invalidateAll());
    await this.subscriber.subscribe(this.channel);
  }

  override async get(name: string): Promise<FunctionRecord | undefined> {
    const hit = this.current.get(name);
    if (hit && Date.now() - hit.at < MAX_AGE_MS) return hit.record;
    const gen = this.generation.get(name) ?? 0;
    const record = await super.get(name);
    if ((this.generation.get(name) ?? 0) === gen) this.current.set(name, { record, at: Date.now() });
    return record;
  }

  override async getVersion(name: string, version: number): Promise<FunctionVersion | undefined> {
    const key = `${name}@${version}`;
    const hit = this.versions.get(key);
    if (hit) return hit;
    const gen = this.generation.get(name) ?? 0;
    const found = await super.getVersion(name, version);
    if (found && (this.generation.get(name) ?? 0) === gen) this.versions.set(key, found);
    return found;
  }

  override async addVersion(input: Omit<FunctionVersion, 'version' | 'createdAt'>): Promise<FunctionRecord> {
    const record = await super.addVersion(input);
    await this.changed(input.name);
    return record;
  }

  /** Rollback: the current pointer moves, so every process must drop its cached record. */
  override async setCurrent(name: string, version: number): Promise<FunctionRecord | undefined> {
    const record = await super.setCurrent(name, version);
    if (record) await this.changed(name);
    return record;
  }

  override async remove(name: string): Promise<boolean> {
    const removed = await super.remove(name);
    await this.changed(name);
    return removed;
  }

  private async changed(name: string): Promise<void> {
    this.invalidate(name);
    await this.publisher.publish(this.channel, name);
  }

  /** Drops the cached record and versions of one function: the next read goes to Redis. */
  invalidate(name: string): void {
    this.generation.set(name, (this.generation.get(name) ?? 0) + 1);
    this.current.delete(name);
    for (const key of [...this.versions.keys()]) if (key.startsWith(`${name}@`)) this.versions.delete(key);
  }

  /** Drops everything cached (a change may have been missed). */
  invalidateAll(): void {
    for (const name of new Set([...this.current.keys(), ...[...this.versions.keys()].map((k) => k.split('@')[0]!)])) this.invalidate(name);
  }
}
