import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { isRedisFull } from '../../src/errors/index.ts';
import { waitFor } from './host.ts';

export interface SmallRedis {
  url: string;
  client: Redis;
  /** Fills Redis with filler keys until it refuses even a small write. */
  fill(): Promise<void>;
  /**
   * Lowers maxmemory below what Redis uses: every write that may grow memory is refused, reliably
   * (after fill() the used memory drifts, and a write may fit again).
   */
  overLimit(): Promise<void>;
  /** Deletes the filler keys and restores maxmemory: room again. */
  makeRoom(): Promise<void>;
  close(): Promise<void>;
}

/** A redis-server with a small maxmemory (noeviction), as an operator would cap it, on a unix socket of its own. */
export async function startSmallRedis(maxmemory: string): Promise<SmallRedis> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-full-'));
  const socket = path.join(dir, 'redis.sock');
  const child: ChildProcess = spawn('redis-server', ['--port', '0', '--unixsocket', socket, '--save', '', '--appendonly', 'no', '--maxmemory', maxmemory, '--maxmemory-policy', 'noeviction'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  await waitFor(() => existsSync(socket), 10_000, 20);
  const client = new Redis({ path: socket, maxRetriesPerRequest: 1 });
  client.on('error', () => undefined);
  await client.ping();
  let filler = 0;
  return {
    url: `redis+socket://${socket}`,
    client,
    async fill() {
      for (const size of [64 * 1024, 1024, 16]) {
        const chunk = 'x'.repeat(size);
        for (;;) {
          const refused = await client.set(`filler:${filler++}`, chunk).then(() => false, (err: unknown) => {
            if (isRedisFull(err)) return true;
            throw err;
          });
          if (refused) break;
        }
      }
    },
    async overLimit() {
      await client.config('SET', 'maxmemory', '1');
    },
    async makeRoom() {
      await client.config('SET', 'maxmemory', maxmemory);
      await client.eval("for _, k in ipairs(redis.call('KEYS', 'filler:*')) do redis.call('DEL', k) end", 0);
    },
    async close() {
      client.disconnect();
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
