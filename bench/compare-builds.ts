/**
 * `tsx bench/compare-builds.ts --base <git rev> [--starts 2] [--rounds 8] [--callers 64,1] [--seconds 2]`:
 * this checkout's Hearth against another commit's, both running at once, each started as `npm
 * start` starts it (own data dir and Redis, its own start script's node flags), given the same warm
 * no-op load in alternating rounds. On these machines one build's calls/s moves ±30 % from run to
 * run; rounds a few seconds apart, taken in turn, see the same machine, so their ratio is the
 * figure to judge a change by. A server process also has its own luck (JIT, placement), so both
 * are started `--starts` times, in turn first. Calibrate before trusting a small difference: the
 * same build against itself (`--base HEAD` with nothing changed, 64 callers) gave medians of 1.05
 * (one start) and 1.04 (two starts, rounds 0.81–2.35) in favour of the working tree, for reasons
 * not found (the base runs from a git worktree under /tmp with node_modules symlinked). Prints,
 * per caller count, the median of each side's rounds over all starts: calls/s, p50, p99, and the CPU
 * one call costs the server, its Redis and its containers.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, symlinkSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { HearthApi, HearthProcess, NOOP } from './hearth/index.ts';
import { callers, stopLoadsOn, warmUp } from './load.ts';
import { Owners } from './owners.ts';
import { cpuMeter, type CpuPerCall } from './cpu-usage.ts';
import { median, percentile } from './stats.ts';

const { values } = parseArgs({
  options: { base: { type: 'string' }, starts: { type: 'string', default: '2' }, rounds: { type: 'string', default: '8' }, callers: { type: 'string', default: '64,1' }, seconds: { type: 'string', default: '2' } },
});
if (!values.base) {
  console.error('usage: tsx bench/compare-builds.ts --base <git rev> [--starts 2] [--rounds 8] [--callers 64,1] [--seconds 2]');
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
}
interface Round extends CpuPerCall {
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
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

  const labels = { base: `base (${values.base})`, this: 'this (working tree)' };
  // Every round of a side at a caller count, over all starts.
  const results = new Map<string, Round[]>();
  const roundsOf = (label: string, n: number): Round[] => {
    const key = `${label} ${n}`;
    if (!results.has(key)) results.set(key, []);
    return results.get(key)!;
  };
  for (let start = 0; start < Number(values.starts); start++) {
    // Each start in turn first: whatever being started first or second brings, both get it.
    const order = start % 2 === 0 ? (['base', 'this'] as const) : (['this', 'base'] as const);
    const sides: Side[] = [];
    const stops: (() => Promise<void>)[] = [];
    for (const which of order) {
      const logFile = path.join(work, `${which}-${start}.log`);
      await writeFile(logFile, '');
      const { hearth, stop } = await HearthProcess.start(owners, { dataDir: path.join(work, `${which}-${start}-data`), logFile, root: which === 'base' ? baseRoot : repoRoot });
      stops.push(stop);
      const api = new HearthApi(hearth.url);
      await api.deploy(NOOP.name, NOOP.source, NOOP.config);
      sides.push({ label: labels[which], api, pid: hearth.pid });
    }
    // Warm-up: containers started, JIT settled, on both.
    for (const side of sides) for (const n of callerCounts) await warmUp(n, () => side.api.invoke(NOOP.name));
    for (const n of callerCounts) {
      for (let r = 0; r < rounds; r++) {
        // Alternate who goes first: a drift within a pair favours neither side.
        for (const side of r % 2 === 0 ? sides : [...sides].reverse()) roundsOf(side.label, n).push(await measureRound(side, n));
      }
    }
    for (const side of sides) side.api.close();
    for (const stop of stops.reverse()) await stop();
  }
  for (const n of callerCounts) {
    console.log(`\n${n} caller${n === 1 ? '' : 's'}, ${values.starts} starts × ${rounds} rounds of ${roundMs} ms each, medians:`);
    for (const label of [labels.base, labels.this]) {
      const list = roundsOf(label, n);
      const m = (f: (x: Round) => number) => median(list.map(f));
      console.log(`  ${label.padEnd(28)} ${m((x) => x.perSecond).toFixed(0).padStart(6)} calls/s  p50 ${m((x) => x.p50Ms).toFixed(3)} ms  p99 ${m((x) => x.p99Ms).toFixed(3)} ms  CPU/call µs: server ${m((x) => x.serverUs).toFixed(0)}, redis ${m((x) => x.redisUs).toFixed(0)}, containers ${m((x) => x.containerUs).toFixed(0)}`);
    }
    const base = roundsOf(labels.base, n);
    const mine = roundsOf(labels.this, n);
    const pairs = base.map((b, i) => mine[i]!.perSecond / b.perSecond);
    console.log(`  this / base calls/s per round: ${pairs.map((x) => x.toFixed(2)).join(' ')} (median ${median(pairs).toFixed(2)})`);
  }
} finally {
  await owners.stopAll();
}

async function measureRound(side: Side, n: number): Promise<Round> {
  const cpu = cpuMeter(side.pid);
  const run = await callers(n, roundMs, () => side.api.invoke(NOOP.name));
  return { perSecond: run.perSecond, p50Ms: median(run.times), p99Ms: percentile(run.times, 0.99), ...cpu.perCall(run.times.length) };
}
