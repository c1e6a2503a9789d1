/**
 * `tsx bench/profile-warm.ts [--seconds 8] [--callers 1] [--async N] [--out dir] [--no-profile]`: a
 * Hearth started as the bench starts it, under `node --cpu-prof`, given warm sync invokes of the
 * no-op by `callers` keep-alive callers (or, with `--async N`, the bench's async measurement of N
 * invocations); its .cpuprofile is written to `out` when it stops. Prints calls/s and p50 too, so
 * a change can be profiled and measured in the same run, and the CPU a call costs the server, its
 * Redis and its containers (steadier than calls/s on a shared machine).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HearthApi, HearthProcess, NOOP, measureAsync } from './hearth/index.ts';
import { callers, stopLoadsOn, warmUp } from './load.ts';
import { Owners } from './owners.ts';
import { cpuMeter } from './cpu-usage.ts';
import { median } from './stats.ts';

const { values } = parseArgs({ allowNegative: true, options: { seconds: { type: 'string', default: '8' }, callers: { type: 'string', default: '1' }, async: { type: 'string' }, out: { type: 'string', default: 'cpu-profiles' }, profile: { type: 'boolean', default: true } } });
const owners = new Owners();
owners.stopOnSignals();
stopLoadsOn(owners.interrupted.signal);
const work = await mkdtemp(path.join(os.tmpdir(), 'hearth-prof-'));
owners.add('work dir', () => rm(work, { recursive: true, force: true }));
try {
  const logFile = path.resolve('bench-hearth.log');
  await writeFile(logFile, '');
  const started = await HearthProcess.start(owners, { dataDir: path.join(work, 'hearth'), logFile, nodeArgs: values.profile ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(values.out)}`] : [] });
  const api = new HearthApi(started.hearth.url);
  await api.deploy(NOOP.name, NOOP.source, NOOP.config);
  // Warm-up: the containers started, the JIT settled.
  await warmUp(Number(values.callers), () => api.invoke(NOOP.name));
  if (values.async) await measureAsync(api, 200);
  const cpu = cpuMeter(started.hearth.pid);
  let figures: Record<string, number>;
  let calls: number;
  if (values.async) {
    const run = await measureAsync(api, Number(values.async));
    calls = run.invocations;
    figures = { invocations: run.invocations, perSecond: Math.round(run.perSecond), failed: run.failed };
  } else {
    const run = await callers(Number(values.callers), Number(values.seconds) * 1000, () => api.invoke(NOOP.name));
    calls = run.times.length;
    figures = { callers: Number(values.callers), perSecond: Math.round(run.perSecond), p50Ms: Math.round(median(run.times) * 1000) / 1000, errors: run.errors };
  }
  const used = cpu.perCall(calls);
  console.log(JSON.stringify({
    ...figures,
    serverCpuUsPerCall: Math.round(used.serverUs),
    redisCpuUsPerCall: Math.round(used.redisUs),
    containerCpuUsPerCall: Math.round(used.containerUs),
  }));
  api.close();
  await started.stop();
} finally {
  await owners.stopAll();
}
