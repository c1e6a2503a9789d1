import { rm } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createRedis } from '../../src/redis/index.ts';
import { startRegistry } from '../image/registry-server.ts';
import { prepareDataDir, startChildHearth, startSharedRedis, type ChildHearth } from '../helpers/child-hearth.ts';

export type Cleanup = () => Promise<unknown>;

export async function api(url: string, method: string, p: string, body?: unknown): Promise<any> {
  const res = await fetch(url + p, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
  const text = await res.text();
  return text ? JSON.parse(text) : undefined;
}

/** One real redis-server for the whole cluster, and a client of the test's own on it. */
export async function clusterRedis(cleanups: Cleanup[]): Promise<{ url: string; client: Redis }> {
  const redis = await startSharedRedis();
  cleanups.push(() => redis.close());
  const client = createRedis(redis.url);
  cleanups.push(() => client.quit());
  return { url: redis.url, client };
}

/**
 * A Hearth node in a child process with its own data dir. On clean-up a node that was SIGKILLed
 * is started once more on its data dir and stopped, which removes the containers it left.
 */
export async function startNode(
  cleanups: Cleanup[], redisUrl: string, name: string, env: Record<string, string> = {}, reuseDataDir?: string,
): Promise<ChildHearth & { dataDir: string; name: string }> {
  const dataDir = reuseDataDir ?? (await prepareDataDir());
  if (!reuseDataDir) cleanups.push(() => rm(dataDir, { recursive: true, force: true }));
  const fullEnv = { REDIS_URL: redisUrl, HEARTH_DATA_DIR: dataDir, HEARTH_NODE_NAME: name, ...env };
  const node = await startChildHearth(fullEnv);
  cleanups.push(async () => {
    const killed = node.child.signalCode === 'SIGKILL';
    await node.stop();
    if (killed) await (await startChildHearth(fullEnv)).stop();
  });
  return { ...node, dataDir, name };
}

/** CPU time (user + system) a process used so far, in ms. */
export function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) ".
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Commands the Redis server has executed so far (INFO commandstats). */
export async function commandsSoFar(client: Redis): Promise<number> {
  const info = await client.info('commandstats');
  let total = 0;
  for (const m of info.matchAll(/calls=(\d+)/g)) total += Number(m[1]);
  return total;
}

/** Connected clients, by the client's name if it gave one (else by address). */
export async function clientList(client: Redis): Promise<string[]> {
  const raw = (await client.client('LIST')) as string;
  return raw.trim().split('\n').filter(Boolean);
}

export async function waitForFinal(url: string, ids: string[], timeoutMs: number): Promise<any[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const records = await Promise.all(ids.map((id) => api(url, 'GET', `/v1/invocations/${id}`)));
    if (records.every((r) => r.status === 'succeeded' || r.status === 'failed')) return records;
    if (Date.now() > deadline) {
      const open = records.filter((r) => r.status !== 'succeeded' && r.status !== 'failed');
      throw new Error(`${open.length} invocations not final after ${timeoutMs} ms, e.g. ${JSON.stringify(open[0])}`);
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** A real registry (Debian's docker-registry) for the cluster: a node pulls the images deployed on another. */
export async function clusterRegistry(cleanups: Cleanup[]): Promise<string> {
  const registry = await startRegistry();
  cleanups.push(() => registry.close());
  return `${registry.host}/hearth`;
}
