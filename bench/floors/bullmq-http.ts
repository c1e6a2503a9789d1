import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { ManagedRedis } from '../../src/redis/index.ts';
import { BenchClient } from '../client.ts';
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
  // setpriv: the server dies with the bench even if the bench is killed without a chance to stop it.
  const server = spawn('setpriv', ['--pdeathsig', 'SIGTERM', process.execPath, '--import', 'tsx', serverFile, redis.url], { stdio: ['ignore', 'pipe', 'inherit'], detached: true });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let client: BenchClient | undefined;
  const stop = owners.add('http floor server', async () => {
    client?.close();
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`async HTTP floor server exited (${code})`)));
      createInterface({ input: server.stdout }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    const http = new BenchClient(`http://127.0.0.1:${port}`);
    client = http;
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
    // Warm-up, as Hearth's async figure follows warm calls: connections open, scripts loaded.
    await submitThenPoll(Math.min(64, o.jobs), submit, state);
    return await submitThenPoll(o.jobs, submit, state);
  } finally {
    await stop();
    await stopRedis();
  }
}
