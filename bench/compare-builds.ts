/**
 * `tsx bench/compare-builds.ts --base <git rev> [--rounds 8] [--callers 64,1] [--seconds 2]`: this
 * checkout's Hearth against another commit's, both running at once, each started as `npm start`
 * starts it (own data dir and Redis, its own start script's node flags), given the same warm no-op
 * load in alternating rounds. On these machines one build's calls/s moves ±30 % from run to run;
 * rounds a few seconds apart, taken in turn, see the same machine, so their ratio is the figure to
 * judge a change by. Prints, per caller count, the median of each side's rounds: calls/s, p50, and
 * the CPU one call costs the server, its Redis and its containers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HearthApi, HearthProcess, NOOP } from './hearth/index.ts';
import { callers, stopLoadsOn } from './load.ts';
import { Owners } from './owners.ts';
import { cpuUsedMs, managedRedisPid } from './cpu-usage.ts';
import { median } from './stats.ts';

const { values } = parseArgs({
  options: { base: { type: 'string' }, rounds: { type: 'string', default: '8' }, callers: { type: 'string', default: '64,1' }, seconds: { type: 'string', default: '2' } },
});
if (!values.base) {
  console.error('usage: tsx bench/compare-builds.ts --base <git rev> [--rounds 8] [--callers 64,1] [--seconds 2]');
  process.exit(2);
}
const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(values.rounds);
const callerCounts = values.callers.split(',').map(Number);
const roundMs = Number(values.seconds) * 1000;

interface Side {
  label: string;
  api: HearthApi;
  pid: number;
  redisPid: number;
}
interface Round {
  perSecond: number;
  p50Ms: number;
  serverUs: number;
  redisUs: number;
  containerUs: number;
}

const owners = new Owners();
owners.stopOnSignals();
stopLoadsOn(owners.interrupted.signal);
const work = await mkdtemp(path.join(os.tmpdir(), 'hearth-compare-'));
owners.add('work dir', () => rm(work, { recursive: true, force: true }));
try {
  const baseRoot = path.join(work, 'base');
  execFileSync('git', ['worktree', 'add', '--detach', '--quiet', baseRoot, values.base], { cwd: repoRoot, stdio: 'inherit' });
  owners.add('base worktree', async () => execFileSync('git', ['worktree', 'remove', '--force', baseRoot], { cwd: repoRoot }));
  // Same dependencies: a change of package versions is not what this compares.
  if (!existsSync(path.join(baseRoot, 'node_modules'))) symlinkSync(path.join(repoRoot, 'node_modules'), path.join(baseRoot, 'node_modules'));

  const sides: Side[] = [];
  for (const [label, root] of [['base', baseRoot], ['this', repoRoot]] as const) {
    const logFile = path.join(work, `${label}.log`);
    await writeFile(logFile, '');
    const { hearth } = await HearthProcess.start(owners, { dataDir: path.join(work, `${label}-data`), logFile, root });
    const api = new HearthApi(hearth.url);
    owners.add(`${label} client`, async () => api.close());
    await api.deploy(NOOP.name, NOOP.source, NOOP.config);
    sides.push({ label: `${label} (${label === 'base' ? values.base : 'working tree'})`, api, pid: hearth.pid, redisPid: managedRedisPid(hearth.pid) });
  }
  // Warm-up: containers started, JIT settled, on both.
  for (const side of sides) for (const n of callerCounts) await callers(n, 1_500, () => side.api.invoke(NOOP.name));

  for (const n of callerCounts) {
    const results = new Map<Side, Round[]>(sides.map((s) => [s, []]));
    for (let r = 0; r < rounds; r++) {
      // Alternate who goes first: a drift within a pair favours neither side.
      for (const side of r % 2 === 0 ? sides : [...sides].reverse()) results.get(side)!.push(await measureRound(side, n));
    }
    console.log(`\n${n} caller${n === 1 ? '' : 's'}, ${rounds} rounds of ${roundMs} ms each, medians:`);
    for (const [side, list] of results) {
      const m = (f: (x: Round) => number) => median(list.map(f));
      console.log(`  ${side.label.padEnd(28)} ${m((x) => x.perSecond).toFixed(0).padStart(6)} calls/s  p50 ${m((x) => x.p50Ms).toFixed(3)} ms  CPU/call µs: server ${m((x) => x.serverUs).toFixed(0)}, redis ${m((x) => x.redisUs).toFixed(0)}, containers ${m((x) => x.containerUs).toFixed(0)}`);
    }
    const [base, mine] = sides.map((s) => results.get(s)!);
    const pairs = base!.map((b, i) => mine![i]!.perSecond / b.perSecond);
    console.log(`  this / base calls/s per round: ${pairs.map((x) => x.toFixed(2)).join(' ')} (median ${median(pairs).toFixed(2)})`);
  }
} finally {
  await owners.stopAll();
}

async function measureRound(side: Side, n: number): Promise<Round> {
  const before = { ...cpuUsedMs(side.pid), redisMs: cpuUsedMs(side.redisPid).serverMs };
  const run = await callers(n, roundMs, () => side.api.invoke(NOOP.name));
  const after = { ...cpuUsedMs(side.pid), redisMs: cpuUsedMs(side.redisPid).serverMs };
  const calls = run.times.length;
  const perCall = (ms: number) => (ms * 1000) / calls;
  return {
    perSecond: run.perSecond,
    p50Ms: median(run.times),
    serverUs: perCall(after.serverMs - before.serverMs),
    redisUs: perCall(after.redisMs - before.redisMs),
    containerUs: perCall(after.containersMs - before.containersMs),
  };
}
