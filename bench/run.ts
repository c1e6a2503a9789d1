/**
 * `npm run bench`: Hearth against baselines taken in the same run on the same machine.
 * Prints a table of figures, baselines and ratios; writes JSON to --out (bench-results.json).
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Hearth } from '../src/hearth.ts';
import { loadSettings } from '../src/config/index.ts';
import { ManagedRedis } from '../src/redis/index.ts';
import { ImageStore } from '../src/image/index.ts';
import { AGENT_ENTRY } from '../src/runtime/index.ts';
import { bullmqBaseline, runcBaseline } from './baselines.ts';
import { BenchClient } from './client.ts';
import { runLoad } from './load.ts';
import { percentile } from './stats.ts';

// A request log line per invoke would bury the table (measured: no effect on the figures either way).
process.env.HEARTH_LOG_LEVEL ??= 'warn';

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'bench-results.json' } } });

async function pssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A Hearth on its own port with the bench's data dir and Redis, plus a client for it. */
async function startHearth(dataDir: string, redisUrl: string, env: Record<string, string> = {}) {
  const hearth = new Hearth(
    loadSettings({ HEARTH_PORT: '0', HEARTH_DATA_DIR: dataDir, HEARTH_FUNCTIONS_DIR: '', REDIS_URL: redisUrl, ...env }),
    () => undefined,
  );
  await hearth.start();
  const client = new BenchClient(hearth.url);
  const call = async (name: string, body = '{}') => {
    const res = await client.request('POST', `/v1/functions/${name}/invoke`, body);
    if (res.status !== 200) throw new Error(`${name}: ${res.status} ${res.text}`);
    return res.headers['x-hearth-cold-start'] === 'true';
  };
  const deploy = async (name: string, source: string, config: object) => {
    const res = await client.request('POST', '/v1/functions', JSON.stringify({ name, source, config }));
    if (res.status !== 201) throw new Error(`deploy ${name}: ${res.status} ${res.text}`);
    return JSON.parse(res.text) as { digest: string };
  };
  const close = async () => {
    client.close();
    await hearth.close();
  };
  return { hearth, call, deploy, close };
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-'));
  const dataDir = path.join(work, 'data');
  const redis = new ManagedRedis(work);
  await redis.start();
  let current: Awaited<ReturnType<typeof startHearth>> | undefined;
  try {
    console.log('baseline: raw BullMQ round trip …');
    const bull = await bullmqBaseline(redis.url);

    // Without stem cells: warm invokes, throughput, cold starts from the function's own image, memory.
    const h = (current = await startHearth(dataDir, redis.url));
    const noop = await h.deploy('noop', 'export default async () => null', { concurrency: 16, maxContainers: 4, idleTimeoutMs: 600_000 });

    console.log('baseline: bare runc run of node -e 0 …');
    const images = new ImageStore({ root: path.join(dataDir, 'images'), agentEntry: AGENT_ENTRY });
    const runc = await runcBaseline(await images.layerDirs(noop.digest), work);

    // The callers run in a process of their own, like real HTTP clients.
    console.log('hearth: warm invokes …');
    const warmRun = await runLoad([h.hearth.url, '/v1/functions/noop/invoke', 'latency', '2000', '300']);
    const warm = 'times' in warmRun ? warmRun.times : [];
    console.log('hearth: throughput, 64 callers …');
    const tputRun = await runLoad([h.hearth.url, '/v1/functions/noop/invoke', 'throughput', '64', '5000']);
    const perSecond = 'perSecond' in tputRun ? tputRun.perSecond : NaN;

    console.log('hearth: cold starts …');
    const cold: number[] = [];
    for (let i = 0; i < 15; i++) {
      // A redeploy is a new version: its containers retire, so the next invoke starts a new one.
      await h.deploy('cold', `export default async () => ${i}`, { idleTimeoutMs: 600_000 });
      const t = performance.now();
      const wasCold = await h.call('cold');
      const elapsed = performance.now() - t;
      if (wasCold) cold.push(elapsed);
    }

    console.log('hearth: idle container memory …');
    await sleep(1000);
    const idle = (h.hearth.pool?.snapshot() ?? []).filter((c) => c.function === 'noop' && c.state === 'idle');
    const perContainer: number[] = [];
    for (const entry of idle) {
      const procs = await readFile(`/sys/fs/cgroup/memory/hearth/${h.hearth.instance}/${entry.id}/cgroup.procs`, 'utf8').catch(() => '');
      let sum = 0;
      for (const pid of procs.split('\n').filter(Boolean)) sum += await pssBytes(Number(pid));
      if (sum > 0) perContainer.push(sum / 2 ** 20);
    }
    await h.close();
    current = undefined;

    // With stem cells: each new function's first invoke specializes a ready stem cell.
    console.log('hearth: stem-cell first invokes …');
    const s = (current = await startHearth(dataDir, redis.url, { HEARTH_STEM_CELLS: '2' }));
    const stem: number[] = [];
    for (let i = 0; i < 15; i++) {
      const ready = async () => ((await s.hearth.pool?.describe())?.stemCells ?? []).filter((c) => c.state === 'ready').length === 2;
      for (let t = 0; t < 200 && !(await ready()); t++) await sleep(25);
      await s.deploy(`stem${i}`, `export default async () => ${i}`, { idleTimeoutMs: 600_000 });
      const t = performance.now();
      const wasCold = await s.call(`stem${i}`);
      const elapsed = performance.now() - t;
      const served = (s.hearth.pool?.snapshot() ?? []).find((c) => c.function === `stem${i}`);
      if (wasCold && served?.fromStemCell) stem.push(elapsed);
    }
    await s.close();
    current = undefined;

    const results = {
      baseline: { bullmqRoundTripP50Ms: bull.p50, bullmqThroughputPerS: bull.perSecond, runcNodeColdP50Ms: runc.p50 },
      hearth: {
        warmP50Ms: percentile(warm, 0.5),
        warmP99Ms: percentile(warm, 0.99),
        throughputPerS: perSecond,
        coldStartP50Ms: percentile(cold, 0.5),
        stemCellP50Ms: stem.length ? percentile(stem, 0.5) : null,
        idleContainerMemMb: perContainer.length ? percentile(perContainer, 0.5) : null,
      },
    };
    const row = (what: string, value: number | null, unit: string, baseline: number | null, target: string) => {
      const ratio = value !== null && baseline ? (value / baseline).toFixed(2) : '—';
      return `${what.padEnd(34)} ${value === null ? '—'.padStart(10) : value.toFixed(1).padStart(10)} ${unit.padEnd(5)} ${baseline === null ? '—'.padStart(10) : baseline.toFixed(1).padStart(10)} ${ratio.padStart(6)}  ${target}`;
    };
    const b = results.baseline;
    const r = results.hearth;
    console.log(`\n${'figure'.padEnd(34)} ${'hearth'.padStart(10)} ${''.padEnd(5)} ${'baseline'.padStart(10)} ${'ratio'.padStart(6)}  target`);
    console.log(row('warm invoke p50', r.warmP50Ms, 'ms', b.bullmqRoundTripP50Ms, '≤ 1.25 × BullMQ round trip'));
    console.log(row('warm invoke p99', r.warmP99Ms, 'ms', null, ''));
    console.log(row('throughput, 64 callers', r.throughputPerS, '/s', b.bullmqThroughputPerS, '≥ 0.8 × BullMQ round trips/s'));
    console.log(row('cold start p50', r.coldStartP50Ms, 'ms', b.runcNodeColdP50Ms, '≤ 1.5 × runc run node -e 0'));
    console.log(row(`stem-cell first invoke p50 (n=${stem.length})`, r.stemCellP50Ms, 'ms', null, '≤ 25 ms'));
    console.log(row('idle warm container PSS', r.idleContainerMemMb, 'MiB', null, '≤ 35 MB'));
    await writeFile(args.out!, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nwrote ${args.out}`);
  } finally {
    await current?.close();
    await redis.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
