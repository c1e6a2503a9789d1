import { spawn } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { createRedis } from '../src/redis/index.ts';
import { mountOverlay, unmount } from '../src/runtime/rootfs.ts';
import { buildSpec, withCgroupsPath, withMemoryLimit, withProcessArgs } from '../src/runtime/spec/index.ts';
import { percentile, throughput, timeEach } from './stats.ts';

/** Raw BullMQ: add → no-op worker → completion seen by the caller (QueueEvents), same Redis as Hearth. */
export async function bullmqBaseline(redisUrl: string): Promise<{ p50: number; perSecond: number }> {
  const connection = createRedis(redisUrl);
  const name = `bench-raw-${process.pid}`;
  const queue = new Queue(name, { connection, prefix: 'bench' });
  const eventsConnection = createRedis(redisUrl);
  const events = new QueueEvents(name, { connection: eventsConnection, prefix: 'bench' });
  // Each waitUntilFinished adds a 'closing' listener to the queue; 64 callers wait at once.
  queue.setMaxListeners(200);
  const worker = new Worker(name, async () => null, { connection, prefix: 'bench', concurrency: 64 });
  await Promise.all([events.waitUntilReady(), worker.waitUntilReady()]);
  const roundTrip = async () => {
    const job = await queue.add('noop', {}, { removeOnComplete: { age: 60 }, removeOnFail: true });
    await job.waitUntilFinished(events, 10_000);
  };
  try {
    const times = await timeEach(500, roundTrip, 100);
    const perSecond = await throughput(64, 5000, roundTrip);
    return { p50: percentile(times, 0.5), perSecond };
  } finally {
    await worker.close();
    await events.close();
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await connection.quit();
    eventsConnection.disconnect();
  }
}

/** A bare `runc run` of `node -e 0` on the same rootfs layers a function container uses. */
export async function runcBaseline(layerDirs: string[], workDir: string, runc = 'runc'): Promise<{ p50: number }> {
  const bundle = path.join(workDir, 'raw-runc');
  const root = path.join('/run/hearth-bench', String(process.pid));
  await mkdir(bundle, { recursive: true });
  await mountOverlay({ layerDirs, target: path.join(bundle, 'rootfs'), emptyDir: path.join(workDir, 'empty') });
  const spec = buildSpec([withProcessArgs('/usr/bin/node', '-e', '0'), withMemoryLimit(128), withCgroupsPath(`/hearth-bench/${process.pid}`)]);
  await writeFile(path.join(bundle, 'config.json'), JSON.stringify(spec));
  try {
    const times = await timeEach(20, (i) => new Promise<void>((resolve, reject) => {
      const child = spawn(runc, ['--root', root, 'run', '--bundle', bundle, `raw-${i}`], { stdio: 'ignore' });
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run exited ${code}`))));
    }), 3);
    return { p50: percentile(times, 0.5) };
  } finally {
    await unmount(path.join(bundle, 'rootfs'));
    await rm(root, { recursive: true, force: true });
  }
}
