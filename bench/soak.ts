/**
 * `npm run soak [-- --duration 600]` (default 180 s): a bounded mixed load (sync callers, async submissions, a
 * per-second cron, a redeploy every 10 s) against a Hearth child process started as `npm start`
 * runs it, printing the server's RSS, Redis memory, open fds and containers every 10 s. Fails
 * (exit 1) when one of them keeps growing, when an accepted async invocation does not succeed, or
 * when the final SIGTERM does not stop the server cleanly. A benchmark, not a CI test.
 */
import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Redis } from 'ioredis';
import { BenchClient } from './client.ts';
import { keepsGrowing, type GrowthRule } from './growth.ts';

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '180' },
    interval: { type: 'string', default: '10' },
    'sync-callers': { type: 'string', default: '4' },
    'async-per-second': { type: 'string', default: '20' },
    // Low enough that the record caps bind within a couple of minutes: what the soak checks is
    // that memory levels off once they do (at the defaults, 10,000 async records take ~8 min at 20/s).
    'records-per-function': { type: 'string', default: '500' },
  },
});
const durationMs = Number(args.duration) * 1000;
const intervalMs = Number(args.interval) * 1000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Sample { t: number; rssMb: number; redisMb: number; fds: number; containers: number }

/** Noise allowances per metric: a slow climb smaller than these is not a leak in a few minutes. */
const RULES: Record<Exclude<keyof Sample, 't'>, GrowthRule> = {
  // V8 grows its heap for a minute or so as throughput ramps up before it levels off.
  rssMb: { warmup: 6, relative: 0.1, absolute: 16 },
  redisMb: { warmup: 3, relative: 0.1, absolute: 4 },
  fds: { warmup: 3, relative: 0.1, absolute: 16 },
  containers: { warmup: 3, relative: 0, absolute: 3 },
};

async function startServer(dataDir: string, env: Record<string, string>): Promise<{ pid: number; url: string; stop(): Promise<number>; output(): string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '..'),
    env: { ...process.env, HEARTH_PORT: '0', HEARTH_DATA_DIR: dataDir, HEARTH_FUNCTIONS_DIR: '', HEARTH_LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const onData = (d: Buffer) => { output = (output + d.toString()).slice(-200_000); };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  // The listening line is at info; the soak runs at warn to keep request logs out, so poll the port from /proc instead.
  const deadline = Date.now() + 60_000;
  let url = '';
  while (!url) {
    if (child.exitCode !== null) throw new Error(`Hearth exited: ${output}`);
    if (Date.now() > deadline) throw new Error(`Hearth did not start: ${output}`);
    url = listeningUrl(child.pid!);
    if (!url) await sleep(200);
  }
  return {
    pid: child.pid!,
    url,
    output: () => output,
    async stop() {
      const t = Date.now();
      child.kill('SIGTERM');
      await exited;
      return Date.now() - t;
    },
  };
}

/** The TCP port the process listens on (ss), as a URL; '' until it listens. */
function listeningUrl(pid: number): string {
  const out = execFileSync('ss', ['-ltnpH'], { encoding: 'utf8' });
  const line = out.split('\n').find((l) => l.includes(`pid=${pid},`));
  const m = line && /127\.0\.0\.1:(\d+)/.exec(line);
  return m ? `http://127.0.0.1:${m[1]}` : '';
}

async function sample(pid: number, redis: Redis, runcRoot: string, t0: number): Promise<Sample> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const rssKb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  const info = await redis.info('memory').catch(() => '');
  const used = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? NaN);
  let containers = 0;
  try {
    containers = execFileSync('runc', ['--root', runcRoot, 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length;
  } catch {
    containers = 0;
  }
  return {
    t: Math.round((Date.now() - t0) / 1000),
    rssMb: +(rssKb / 1024).toFixed(1),
    redisMb: +(used / 1024 ** 2).toFixed(1),
    fds: (await readdir(`/proc/${pid}/fd`)).length,
    containers,
  };
}

async function main(): Promise<void> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-soak-'));
  const instance = createHash('sha256').update(dataDir).digest('hex').slice(0, 12);
  const cap = String(args['records-per-function']);
  const server = await startServer(dataDir, { HEARTH_RECORDS_PER_FUNCTION: cap, HEARTH_SYNC_RECORDS_PER_FUNCTION: cap });
  const client = new BenchClient(server.url);
  const redis = new Redis({ path: path.join(dataDir, 'redis', 'redis.sock'), maxRetriesPerRequest: 1 });
  redis.on('error', () => undefined);
  const deploy = async (name: string, source: string, config: object = {}) => {
    const res = await client.request('POST', '/v1/functions', JSON.stringify({ name, source, config }));
    if (res.status !== 201) throw new Error(`deploy ${name}: ${res.status} ${res.text}`);
  };
  await deploy('soak-sync', 'export default (e) => ({ echo: e, at: Date.now() });', { maxContainers: 4 });
  await deploy('soak-async', 'export default async (e) => { await new Promise((r) => setTimeout(r, 20)); console.log("async", e.n); return e.n; };', { maxContainers: 2 });
  await deploy('soak-cron', 'export default () => { console.log("tick"); return 1; };', { schedules: [{ id: 'tick', cron: '* * * * * *' }] });

  const t0 = Date.now();
  const end = t0 + durationMs;
  const counts = { sync: 0, syncErrors: 0, asyncRefused: 0, deploys: 0 };
  const accepted: string[] = [];
  const syncCallers = Array.from({ length: Number(args['sync-callers']) }, async (_, i) => {
    while (Date.now() < end) {
      const res = await client.request('POST', '/v1/functions/soak-sync/invoke', JSON.stringify({ caller: i }));
      if (res.status === 200) counts.sync++;
      else counts.syncErrors++;
    }
  });
  const asyncSubmitter = (async () => {
    const gap = 1000 / Number(args['async-per-second']);
    for (let n = 0; Date.now() < end; n++) {
      const res = await client.request('POST', '/v1/functions/soak-async/invocations', JSON.stringify({ n }));
      if (res.status === 202) accepted.push((JSON.parse(res.text) as { id: string }).id);
      else counts.asyncRefused++;
      await sleep(gap);
    }
  })();
  const deployer = (async () => {
    for (let v = 0; Date.now() < end; v++) {
      await deploy('soak-deploy', `export default () => ${v};`);
      const res = await client.request('POST', '/v1/functions/soak-deploy/invoke', '{}');
      if (res.status === 200) counts.deploys++;
      await sleep(10_000);
    }
  })();

  const samples: Sample[] = [];
  console.log('  t(s)  rss MB  redis MB   fds  containers   sync/s');
  let lastSync = 0;
  while (Date.now() < end) {
    await sleep(Math.min(intervalMs, Math.max(0, end - Date.now())));
    const s = await sample(server.pid, redis, `/run/hearth/${instance}`, t0);
    samples.push(s);
    const rate = Math.round((counts.sync - lastSync) / (intervalMs / 1000));
    lastSync = counts.sync;
    console.log(`${String(s.t).padStart(6)}  ${String(s.rssMb).padStart(6)}  ${String(s.redisMb).padStart(8)}  ${String(s.fds).padStart(4)}  ${String(s.containers).padStart(10)}  ${String(rate).padStart(7)}`);
  }
  await Promise.all([...syncCallers, asyncSubmitter, deployer]);

  // Every accepted async invocation must succeed. Most records are trimmed by now (that is the
  // point of the caps), so count successes where they are counted: the server's metrics.
  const succeededAsync = async () => {
    const res = await client.request('GET', '/metrics');
    const m = /hearth_invocations_total\{function="soak-async",outcome="success"\} (\d+)/.exec(res.text);
    return Number(m?.[1] ?? 0);
  };
  const waitUntil = Date.now() + 60_000;
  let succeeded = await succeededAsync();
  while (succeeded < accepted.length && Date.now() < waitUntil) {
    await sleep(500);
    succeeded = await succeededAsync();
  }
  const notSucceeded = accepted.length - succeeded;

  const growing = (Object.keys(RULES) as (keyof typeof RULES)[]).filter((k) => keepsGrowing(samples.map((s) => s[k]), RULES[k]));
  const stopMs = await server.stop();
  redis.disconnect();
  client.close();
  const left = (() => {
    try {
      return execFileSync('runc', ['--root', `/run/hearth/${instance}`, 'list', '-q'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean).length;
    } catch {
      return 0;
    }
  })();
  await rm(dataDir, { recursive: true, force: true });

  const summary = { durationS: durationMs / 1000, ...counts, asyncAccepted: accepted.length, asyncNotSucceeded: notSucceeded, growing, stopMs, containersLeft: left, samples };
  console.log(JSON.stringify(summary));
  const failed = growing.length > 0 || notSucceeded > 0 || left > 0;
  if (failed) console.error(`soak FAILED: ${growing.length ? `keeps growing: ${growing.join(', ')}; ` : ''}${notSucceeded} async not succeeded; ${left} containers left`);
  else console.log('soak passed: nothing kept growing, every accepted async invocation succeeded, stop left nothing');
  process.exit(failed ? 1 : 0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
