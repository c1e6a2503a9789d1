import type { Redis } from 'ioredis';
import { HearthError } from '../errors/index.ts';
import type { SecretCipher } from './cipher.ts';

export interface SecretInfo {
  name: string;
  updatedAt: string;
}

/** Secret names become file names under /run/secrets. */
export const SECRET_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;
/** Larger values belong in a real secret manager. */
export const MAX_SECRET_BYTES = 64 * 1024;

/**
 * Secrets in Redis, encrypted (AES-256-GCM) with HEARTH_SECRET_KEY: `<p>:secrets` maps name →
 * sealed value, `<p>:secrets:meta` name → updatedAt. Nothing here ever returns a value to the API;
 * only `resolve` (for starting a container) decrypts.
 */
export class SecretStore {
  /** Called after a secret changed or went away (Hearth recycles warm containers that mount it). */
  onChange: ((name: string) => Promise<void>) | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly cipher: SecretCipher,
    private readonly prefix = 'hearth',
  ) {}

  private get valuesKey(): string {
    return `${this.prefix}:secrets`;
  }

  private get metaKey(): string {
    return `${this.prefix}:secrets:meta`;
  }

  async put(name: string, value: string): Promise<SecretInfo> {
    if (!SECRET_NAME.test(name)) throw new HearthError('invalid_request', `secret name ${JSON.stringify(name)} must be 1-128 chars of A-Z, a-z, 0-9, ".", "_" and "-"`);
    if (Buffer.byteLength(value) > MAX_SECRET_BYTES) throw new HearthError('payload_too_large', `secret values are limited to ${MAX_SECRET_BYTES} bytes`);
    const updatedAt = new Date().toISOString();
    await this.redis
      .multi()
      .hset(this.valuesKey, name, this.cipher.encrypt(value, name))
      .hset(this.metaKey, name, updatedAt)
      .exec();
    await this.onChange?.(name);
    return { name, updatedAt };
  }

  async describe(name: string): Promise<SecretInfo | undefined> {
    const updatedAt = await this.redis.hget(this.metaKey, name);
    return updatedAt ? { name, updatedAt } : undefined;
  }

  async list(): Promise<SecretInfo[]> {
    const meta = await this.redis.hgetall(this.metaKey);
    return Object.entries(meta)
      .map(([name, updatedAt]) => ({ name, updatedAt }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async remove(name: string): Promise<boolean> {
    const [[, removed] = [null, 0]] = (await this.redis.multi().hdel(this.valuesKey, name).hdel(this.metaKey, name).exec()) ?? [];
    if (Number(removed) > 0) await this.onChange?.(name);
    return Number(removed) > 0;
  }

  /** Decrypted values for a container; a missing secret is an error naming it. */
  async resolve(names: string[]): Promise<Record<string, string>> {
    if (names.length === 0) return {};
    const sealed = await this.redis.hmget(this.valuesKey, ...names);
    const out: Record<string, string> = {};
    names.forEach((name, i) => {
      const value = sealed[i];
      if (value === null || value === undefined) throw new Error(`secret ${name} does not exist (PUT /v1/secrets/${name} first)`);
      try {
        out[name] = this.cipher.decrypt(value, name);
      } catch {
        throw new Error(`secret ${name} cannot be decrypted: HEARTH_SECRET_KEY differs from the key it was stored with`);
      }
    });
    return out;
  }
}
