import { fileURLToPath } from 'node:url';
import { ManagedRedis } from '../../src/redis/index.ts';
import { startFloorServer } from './floor-server.ts';
import { submitThenPoll, type AsyncRun } from '../load.ts';
import type { Owners } from '../owners.ts';

const serverFile = fileURLToPath(new URL('./bullmq-http-server.ts', import.meta.url));

/**
 * The async floor with HTTP: BullMQ behind a plain node:http server (bullmq-http-server.ts), on a
 * Redis configured as Hearth's managed one (appendfsync always), driven by the same loop as
 * Hearth's async figure: `jobs` submitted over keep-alive HTTP by 64 callers, then each polled
 * until completed. Raw BullMQ's floor adds jobs from inside its own process; this one pays what
 * any HTTP design pays for a submission and a status read.
 */
export async function measureBullmqHttpFloor(owners: Owners, o: { workDir: string; jobs: number }): Promise<AsyncRun> {
  const redis = new ManagedRedis(o.workDir, { fsync: 'always' });
  const stopRedis = owners.add('http floor redis', () => redis.close());
  await redis.start();
  try {
    const { client: http, stop } = await startFloorServer(owners, 'async HTTP floor', serverFile, [redis.url]);
    const submit = async () => {
      const res = await http.request('POST', '/jobs', '{}');
      if (res.status !== 202) throw new Error(`async HTTP floor answered ${res.status}: ${res.text}`);
      return (JSON.parse(res.text) as { id: string }).id;
    };
    const state = async (id: string) => {
      const res = await http.request('GET', `/jobs/${encodeURIComponent(id)}`);
      const { state } = JSON.parse(res.text) as { state: string };
      return state === 'completed' ? 'succeeded' : state === 'failed' ? 'failed' : 'pending';
    };
    try {
      // Warm-up, as Hearth's async figure follows warm calls: connections open, scripts loaded.
      await submitThenPoll(Math.min(64, o.jobs), submit, state);
      return await submitThenPoll(o.jobs, submit, state);
    } finally {
      await stop();
    }
  } finally {
    await stopRedis();
  }
}
