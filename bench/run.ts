/**
 * `npm run bench`: Hearth, started as users start it, against floors measured in the same run on the
 * same machine. Prints the table (figure, hearth, floor, ratio, target, PASS/MISS) and writes every
 * figure as JSON to --out. Flags shrink each measurement for a quick check (`--help`).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { DEFAULT_STEM_CELLS } from '../src/config/index.ts';
import { parseFlags, type BenchSection } from './flags.ts';
import { BareRunc, measureBullmqFloor, measureBullmqHttpFloor, measureProxyFloor, measureRuncFloor, startProxyFloor } from './floors/index.ts';
import {
  HearthApi, HearthProcess, NOOP, honoZodSource, measureAsync, measureColdStarts, measureDeploy, measureIdleMemory,
  measureManyCold, measureStemCells, measureWarm, tinySource,
  type AsyncFigures, type ColdFigures, type DeployFigures, type ManyColdFigures, type MemoryFigures, type StemFigures, type WarmFigures,
} from './hearth/index.ts';
import { stopLoadsOn } from './load.ts';
import { Owners } from './owners.ts';
import { formatTable, judge, type Row } from './table.ts';

/** The stem-cell Hearth runs with the default count; the other keeps none (its figures are of containers started for their calls). */
const STEM_CELLS = DEFAULT_STEM_CELLS;
/** Idle containers measured together (PSS depends on how many share node's pages). */
const IDLE_CONTAINERS = 10;

const owners = new Owners();

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  owners.stopOnSignals();
  stopLoadsOn(owners.interrupted.signal);
  const work = await mkdtemp(path.join(os.tmpdir(), 'hearth-bench-'));
  // Registered first, so removed last: after every process that uses it has stopped.
  owners.add('work dir', () => rm(work, { recursive: true, force: true }));
  const step = (what: string) => console.log(`bench: ${what} …`);
  const want = (section: BenchSection) => flags.only.size === 0 || flags.only.has(section);
  try {
    /** Runs `measure` when any of `sections` was asked for. */
    const measureFor = async <T>(sections: BenchSection[], what: string, measure: () => Promise<T>): Promise<T | undefined> => {
      if (!sections.some(want)) return undefined;
      step(what);
      return measure();
    };
    // With the warm figures, the proxy floor is measured in the same rounds as Hearth (see measureWarm).
    let proxy = want('warm') ? undefined : await measureFor(['proxy'], 'floor: proxy (node:http + worker process over a pipe)', () =>
      measureProxyFloor(owners, { calls: flags.warmCalls, throughputMs: flags.throughputSeconds * 1000 }));
    const bullmq = await measureFor(['bullmq', 'async', 'fsync'], `floor: raw BullMQ, ${flags.asyncInvocations} jobs`, () =>
      measureBullmqFloor(owners, { workDir: path.join(work, 'floor'), jobs: flags.asyncInvocations }));
    // What any design that accepts async work over HTTP pays on top of raw BullMQ; reported, not judged.
    const bullmqHttp = await measureFor(['async'], `floor: BullMQ behind node:http, ${flags.asyncInvocations} jobs submitted and polled`, () =>
      measureBullmqHttpFloor(owners, { workDir: path.join(work, 'floor-http'), jobs: flags.asyncInvocations }));
    // Same run, same machine: what appendfsync always (Hearth's default) costs the async floor.
    const bullmqEverysec = await measureFor(['fsync'], 'floor: raw BullMQ at appendfsync everysec', () =>
      measureBullmqFloor(owners, { workDir: path.join(work, 'floor-everysec'), jobs: flags.asyncInvocations, fsync: 'everysec' }));
    // With the cold figures, bare runc is measured alternated with Hearth's samples (see measureColdStarts).
    let runc = want('cold') ? undefined : await measureFor(['runc', 'many'], 'floor: bare runc run of node -e 0', () => measureRuncFloor({ workDir: work, samples: flags.runcSamples }));

    // One data dir for both Hearths: the base layer is built once. The stem-cell Hearth goes first
    // and removes its functions, so the second starts with an empty catalog.
    const dataDir = path.join(work, 'hearth');
    // Kept after the run (the work dir is not): it is where a failure is explained.
    const logFile = path.resolve('bench-hearth.log');
    await writeFile(logFile, '');
    console.log(`bench: Hearth output goes to ${logFile}`);

    let stem: StemFigures | undefined, stemHeavy: StemFigures | undefined, stemHeavyAgain: StemFigures | undefined;
    if (want('stem')) {
      step(`hearth with its default ${STEM_CELLS} stem cells: first invokes`);
      const started = await HearthProcess.start(owners, { dataDir, logFile });
      const api = new HearthApi(started.hearth.url);
      stem = await measureStemCells(api, { samples: flags.stemSamples, stemCells: STEM_CELLS });
      // A web framework's first request (hono builds a web Request): reported, the issue sets no target.
      const heavyCode = await honoZodSource();
      stemHeavy = await measureStemCells(api, { samples: flags.stemSamples, stemCells: STEM_CELLS, prefix: 'stem-hono', source: heavyCode });
      // Two versions deployed in turn, as for cold starts: from the third on, the code ran here before and its cache is sent with it.
      stemHeavyAgain = await measureStemCells(api, { samples: flags.stemSamples + 2, stemCells: STEM_CELLS, name: 'stem-hono-again', untimed: 2, source: (i) => heavyCode(i % 2) });
      for (let i = 0; i < flags.stemSamples; i++) await Promise.all([api.remove(`stem-${i}`), api.remove(`stem-hono-${i}`)]);
      await api.remove('stem-hono-again');
      api.close();
      await started.stop();
    }

    const hearthSections: BenchSection[] = ['memory', 'warm', 'async', 'cold', 'deploy', 'many'];
    let memory: MemoryFigures | undefined, warm: WarmFigures | undefined, asyncRun: AsyncFigures | undefined;
    let cold: ColdFigures | undefined, heavy: ColdFigures | undefined, heavyAgain: ColdFigures | undefined, deploy: DeployFigures | undefined, many: ManyColdFigures | undefined;
    if (hearthSections.some(want)) {
      // Cold starts, the 200 functions and idle memory are of containers started for their call or
      // function: with stem cells a new function's first call would take a cell instead.
      const started = await HearthProcess.start(owners, { dataDir, logFile, env: { HEARTH_STEM_CELLS: '0' } });
      const api = new HearthApi(started.hearth.url);
      if (want('memory')) {
        step(`hearth: host memory of ${IDLE_CONTAINERS} idle warm containers`);
        memory = await measureIdleMemory(api, started.hearth.pid, IDLE_CONTAINERS);
      }
      await api.deploy(NOOP.name, NOOP.source, NOOP.config);
      if (want('warm')) {
        step('hearth: warm sync invokes (sequential, 64 callers, 32 steady callers), rounds alternating with the proxy floor');
        const floor = await startProxyFloor(owners);
        try {
          warm = await measureWarm(api, { calls: flags.warmCalls, throughputMs: flags.throughputSeconds * 1000, steadyMs: flags.steadySeconds * 1000 }, floor.call);
        } finally {
          await floor.stop();
        }
        proxy = warm.floor;
        const s = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
        console.log(`bench: warm-ups until steady: hearth ${s(warm.warmupMs.sequential)} sequential, ${s(warm.warmupMs.callers64)} at 64 callers; proxy floor ${s(warm.floor!.warmupMs.sequential)}, ${s(warm.floor!.warmupMs.callers64)}`);
      }
      if (want('async')) {
        step(`hearth: ${flags.asyncInvocations} async invocations`);
        // Untimed first (as the floors warm up): with --only async no warm call started the containers.
        await measureAsync(api, 200);
        asyncRun = await measureAsync(api, flags.asyncInvocations);
      }
      if (want('cold') || want('many')) {
        step(want('cold') ? 'hearth: cold starts, each after a run of bare runc' : 'hearth: cold starts');
        const floor = want('cold') ? await BareRunc.prepare({ workDir: work }) : undefined;
        try {
          const sample = floor ? () => floor.sample() : undefined;
          cold = await measureColdStarts(api, 'cold', flags.coldSamples, tinySource, sample);
          if (want('cold')) {
            const heavyCode = await honoZodSource();
            heavy = await measureColdStarts(api, 'hono-zod', flags.coldSamples, heavyCode, sample);
            // Two versions deployed in turn: from the third sample on, each cold start's code ran
            // on this node before, so its V8 code cache is there (a function that idled out).
            heavyAgain = await measureColdStarts(api, 'hono-zod-again', flags.coldSamples + 2, (i) => heavyCode(i % 2), sample, 2);
          }
        } finally {
          await floor?.close();
        }
        if (cold.floorP50Ms !== undefined) runc = { p50Ms: cold.floorP50Ms };
      }
      if (want('deploy')) {
        step('hearth: deploys');
        deploy = await measureDeploy(api, flags.deploySamples);
      }
      if (want('many')) {
        step(`hearth: ${flags.manyFunctions} functions cold-invoked 4 at a time`);
        many = await measureManyCold(api, flags.manyFunctions);
        console.log(`bench: p50 by quarter of the calls: ${many.quarterP50Ms.map((ms) => ms.toFixed(0)).join(', ')} ms`);
      }
      api.close();
      await started.stop();
    }

    const rows: Row[] = [];
    if (warm && proxy) {
      rows.push(
        { figure: 'warm sync invoke p50 (sequential)', unit: 'ms', hearth: warm.p50Ms, floor: proxy.p50Ms, floorName: 'proxy floor', target: { kind: 'ratio ≤', limit: 1.5 } },
        { figure: 'warm sync throughput, 64 callers', unit: '/s', hearth: warm.perSecond, floor: proxy.perSecond, floorName: 'proxy floor', target: { kind: 'ratio ≥', limit: 0.5 } },
        { figure: `${warm.steady.callers} steady callers ${warm.steady.seconds} s: p99 vs p50`, unit: 'ms', hearth: warm.steady.p99Ms, floor: warm.steady.p50Ms, floorName: 'own p50', target: { kind: 'ratio ≤', limit: 5 } },
        { figure: `${warm.steady.callers} steady callers: errors`, unit: 'errors', hearth: warm.steady.errors, floor: null, floorName: '', target: { kind: 'value ≤', limit: 0 } },
      );
    }
    if (asyncRun && bullmq) rows.push({ figure: `async: ${asyncRun.invocations} until all final`, unit: '/s', hearth: asyncRun.failed > 0 ? null : asyncRun.perSecond, floor: bullmq.perSecond, floorName: 'raw BullMQ', target: { kind: 'ratio ≥', limit: 0.8 } });
    if (asyncRun && bullmqHttp) rows.push({ figure: '  … vs BullMQ behind node:http (submit + poll)', unit: '/s', hearth: asyncRun.failed > 0 ? null : asyncRun.perSecond, floor: bullmqHttp.perSecond, floorName: 'BullMQ + HTTP', target: { kind: 'reported' } });
    // The ratio is what an fsync on every write costs the async floor; reported, not judged.
    if (bullmq && bullmqEverysec) rows.push({ figure: 'raw BullMQ, appendfsync always vs everysec', unit: '/s', hearth: bullmq.perSecond, floor: bullmqEverysec.perSecond, floorName: 'everysec', target: { kind: 'reported' } });
    // Each against the bare runc runs alternated with its own samples.
    const coldFloor = (f: ColdFigures) => f.floorP50Ms ?? runc?.p50Ms;
    if (cold && coldFloor(cold) !== undefined) rows.push({ figure: `cold start through HTTP (n=${cold.samples})`, unit: 'ms', hearth: cold.p50Ms, floor: coldFloor(cold)!, floorName: 'bare runc', target: { kind: 'ratio ≤', limit: 1.2 } });
    if (heavy && coldFloor(heavy) !== undefined) rows.push({ figure: `cold start, hono + zod (n=${heavy.samples})`, unit: 'ms', hearth: heavy.p50Ms, floor: coldFloor(heavy)!, floorName: 'bare runc', target: { kind: 'ratio ≤', limit: 1.3 } });
    if (heavyAgain && coldFloor(heavyAgain) !== undefined) rows.push({ figure: `  … code that ran here before (n=${heavyAgain.samples})`, unit: 'ms', hearth: heavyAgain.p50Ms, floor: coldFloor(heavyAgain)!, floorName: 'bare runc', target: { kind: 'ratio ≤', limit: 1.3 } });
    if (stem) rows.push({ figure: `stem-cell first invoke p50 (n=${stem.samples})`, unit: 'ms', hearth: stem.p50Ms, floor: null, floorName: '', target: { kind: 'value ≤', limit: 15 } });
    if (stemHeavy) rows.push({ figure: `… of hono + zod p50 (n=${stemHeavy.samples})`, unit: 'ms', hearth: stemHeavy.p50Ms, floor: null, floorName: '', target: { kind: 'reported' } });
    if (stemHeavyAgain) rows.push({ figure: `  … code that ran here before (n=${stemHeavyAgain.samples})`, unit: 'ms', hearth: stemHeavyAgain.p50Ms, floor: null, floorName: '', target: { kind: 'reported' } });
    if (many && cold) rows.push({ figure: `${many.functions} functions cold, 4 at a time, p50`, unit: 'ms', hearth: many.p50Ms, floor: cold.p50Ms, floorName: 'single cold start', target: { kind: 'ratio ≤', limit: 3 } });
    if (memory) rows.push({ figure: `idle warm container, host PSS (${memory.samples} idle)`, unit: 'MiB', hearth: memory.p50MiB, floor: null, floorName: '', target: { kind: 'value ≤', limit: 22 } });
    if (deploy) rows.push({ figure: 'deploy of a small function until invocable', unit: 'ms', hearth: deploy.p50Ms, floor: null, floorName: '', target: { kind: 'value ≤', limit: 300 } });
    const judged = rows.map(judge);
    console.log(`\n${formatTable(judged)}\n`);
    const results = { date: new Date().toISOString(), flags: { ...flags, only: [...flags.only] }, floors: { proxy, bullmq, bullmqHttp, bullmqEverysec, runc }, hearth: { warm, async: asyncRun, cold, heavy, heavyAgain, stem, stemHeavy, stemHeavyAgain, many, memory, deploy }, table: judged };
    await writeFile(flags.out, JSON.stringify(results, null, 2) + '\n');
    console.log(`bench: wrote ${flags.out}`);
  } finally {
    await owners.stopAll();
  }
}

main().catch((err: unknown) => {
  // After Ctrl-C the in-flight step fails against stopped servers: that error says nothing new.
  if (!owners.interrupted.signal.aborted) console.error(err);
  process.exit(owners.interrupted.signal.aborted ? 130 : 1);
});
