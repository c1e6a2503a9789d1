import type { Redis } from 'ioredis';
import type { FunctionConfig } from '../config/index.ts';

/** One deployed version of a function: immutable once written. */
export interface FunctionVersion {
  name: string;
  version: number;
  /** OCI manifest digest of the version's image. */
  digest: string;
  config: FunctionConfig;
  bundleBytes: number;
  createdAt: string;
}

/** What `GET /v1/functions/:name` describes: the current version plus bookkeeping. */
export interface FunctionRecord extends FunctionVersion {
  versions: number;
  updatedAt: string;
}

/**
 * Deployed functions, kept in Redis so every Hearth process on the same Redis sees the same set.
 * Keys: `<p>:functions` (name → current version JSON), `<p>:fn:<name>:versions` (version → JSON),
 * `<p>:fn:<name>:seq` (last version number).
 */
export class FunctionCatalog {
  constructor(private readonly redis: Redis, private readonly prefix = 'hearth') {}

  private versionsKey(name: string): string {
    return `${this.prefix}:fn:${name}:versions`;
  }

  private seqKey(name: string): string {
    return `${this.prefix}:fn:${name}:seq`;
  }

  private get currentKey(): string {
    return `${this.prefix}:functions`;
  }

  /** Records a new version and makes it current. Versions count up from 1. */
  async addVersion(input: Omit<FunctionVersion, 'version' | 'createdAt'>): Promise<FunctionRecord> {
    const version = await this.redis.incr(this.seqKey(input.name));
    const now = new Date().toISOString();
    const entry: FunctionVersion = { ...input, version, createdAt: now };
    const record: FunctionRecord = { ...entry, versions: version, updatedAt: now };
    await this.redis
      .multi()
      .hset(this.versionsKey(input.name), String(version), JSON.stringify(entry))
      .hset(this.currentKey, input.name, JSON.stringify(record))
      .exec();
    return record;
  }

  async get(name: string): Promise<FunctionRecord | undefined> {
    const raw = await this.redis.hget(this.currentKey, name);
    return raw ? (JSON.parse(raw) as FunctionRecord) : undefined;
  }

  async getVersion(name: string, version: number): Promise<FunctionVersion | undefined> {
    const raw = await this.redis.hget(this.versionsKey(name), String(version));
    return raw ? (JSON.parse(raw) as FunctionVersion) : undefined;
  }

  async list(): Promise<FunctionRecord[]> {
    const all = await this.redis.hvals(this.currentKey);
    return all.map((raw) => JSON.parse(raw) as FunctionRecord).sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Removes the function and its version history. Returns false if it did not exist. */
  async remove(name: string): Promise<boolean> {
    const [[, removed] = [null, 0]] = (await this.redis
      .multi()
      .hdel(this.currentKey, name)
      .del(this.versionsKey(name), this.seqKey(name))
      .exec()) ?? [];
    return removed === 1;
  }
}
