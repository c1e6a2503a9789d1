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
import { percentile, throughput, timeEach } from './stats.ts';

const { values: args } = parseArgs({ options: { out: { type: 'string', default: 'bench-results.json' } } });

async function pssBytes(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  return Number(/^Pss:\s+(\d+) kB/m.exec(text)?.[1] ?? 0) * 1024;
}

async function main(): Promise<void> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-'));
  const redis = new ManagedRedis(work);
  await redis.start();
  const hearth = new Hearth(
    loadSettings({ HEARTH_PORT: '0', HEARTH_DATA_DIR: path.join(work, 'data'), HEARTH_FUNCTIONS_DIR: '', REDIS_URL: redis.url }),
    () => undefined,
  );
  try {
    console.log('baseline: raw BullMQ round trip …');
    const bull = await bullmqBaseline(redis.url);

    await hearth.start();
    const url = hearth.url;
    const call = async (name: string, body = '{}') => {
      const res = await fetch(`${url}/v1/functions/${name}/invoke`, { method: 'POST', body });
      const text = await res.text();
      if (res.status !== 200) throw new Error(`${name}: ${res.status} ${text}`);
      return res.headers.get('x-hearth-cold-start') === 'true';
    };
    const deploy = async (name: string, source: string, config: object) => {
      const res = await fetch(`${url}/v1/functions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name, source, config }) });
      if (res.status !== 201) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
      return (await res.json()) as { digest: string };
    };

    const noop = await deploy('noop', 'export default async () => null', { concurrency: 16, maxContainers: 4, idleTimeoutMs: 600_000 });

    console.log('baseline: bare runc run of node -e 0 …');
    const images = new ImageStore({ root: path.join(work, 'data', 'images'), agentEntry: AGENT_ENTRY });
    const runc = await runcBaseline(await images.layerDirs(noop.digest), work);

    console.log('hearth: warm invokes …');
    const warm = await timeEach(1000, () => call('noop'), 200);
    console.log('hearth: throughput, 64 callers …');
    const perSecond = await throughput(64, 5000, () => call('noop'));

    console.log('hearth: cold starts …');
    await deploy('cold', 'export default async () => null', { idleTimeoutMs: 600_000 });
    const cold: number[] = [];
    for (let i = 0; i < 15; i++) {
      // A redeploy is a new version: its containers retire, so the next invoke starts a new one.
      await deploy('cold', `export default async () => ${i}`, { idleTimeoutMs: 600_000 });
      const t = performance.now();
      const wasCold = await call('cold');
      const elapsed = performance.now() - t;
      if (wasCold) cold.push(elapsed);
    }

    console.log('hearth: idle container memory …');
    await new Promise((r) => setTimeout(r, 1000));
    const idle = (hearth.pool?.snapshot() ?? []).filter((c) => c.function === 'noop' && c.state === 'idle');
    const perContainer: number[] = [];
    for (const entry of idle) {
      const procs = await readFile(`/sys/fs/cgroup/memory/hearth/${hearth.instance}/${entry.id}/cgroup.procs`, 'utf8').catch(() => '');
      let sum = 0;
      for (const pid of procs.split('\n').filter(Boolean)) sum += await pssBytes(Number(pid));
      if (sum > 0) perContainer.push(sum / 2 ** 20);
    }

    const results = {
      baseline: { bullmqRoundTripP50Ms: bull.p50, bullmqThroughputPerS: bull.perSecond, runcNodeColdP50Ms: runc.p50 },
      hearth: {
        warmP50Ms: percentile(warm, 0.5),
        warmP99Ms: percentile(warm, 0.99),
        throughputPerS: perSecond,
        coldStartP50Ms: percentile(cold, 0.5),
        stemCellP50Ms: null as number | null,
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
    console.log(row('stem-cell first invoke p50', r.stemCellP50Ms, 'ms', null, '≤ 25 ms'));
    console.log(row('idle warm container PSS', r.idleContainerMemMb, 'MiB', null, '≤ 35 MB'));
    await writeFile(args.out!, JSON.stringify(results, null, 2) + '\n');
    console.log(`\nwrote ${args.out}`);
  } finally {
    await hearth.close();
    await redis.close();
    await rm(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
