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
  /** Where the image was pushed ("host:port/repo@sha256:…"), when a registry is configured. */
  image?: string;
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

  /** Every version of a function, oldest first; empty when the function does not exist. */
  async listVersions(name: string): Promise<FunctionVersion[]> {
    const all = await this.redis.hvals(this.versionsKey(name));
    return all.map((raw) => JSON.parse(raw) as FunctionVersion).sort((a, b) => a.version - b.version);
  }

  /**
   * Makes an existing version current again (rollback). Versions stay immutable: only the
   * current pointer moves. Undefined when the function or the version does not exist.
   */
  async setCurrent(name: string, version: number): Promise<FunctionRecord | undefined> {
    const [current, entry, seq] = await Promise.all([this.get(name), this.getVersion(name, version), this.redis.get(this.seqKey(name))]);
    if (!current || !entry) return undefined;
    const record: FunctionRecord = { ...entry, versions: Number(seq ?? entry.version), updatedAt: new Date().toISOString() };
    await this.redis.hset(this.currentKey, name, JSON.stringify(record));
    return record;
  }

  /** Image digests of every version of every function: what garbage collection must keep. */
  async referencedDigests(): Promise<Set<string>> {
    const digests = new Set<string>();
    for (const name of await this.redis.hkeys(this.currentKey)) {
      for (const v of await this.listVersions(name)) digests.add(v.digest);
    }
    for (const record of await this.list()) digests.add(record.digest);
    return digests;
  }

  /** A version whose image has this digest (any function), to know where to pull it from. */
  async findByDigest(digest: string): Promise<FunctionVersion | undefined> {
    for (const name of await this.redis.hkeys(this.currentKey)) {
      const found = (await this.listVersions(name)).reverse().find((v) => v.digest === digest);
      if (found) return found;
    }
    return undefined;
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
