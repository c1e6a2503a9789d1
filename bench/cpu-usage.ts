import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

const TICKS_PER_S = 100;
const CPUACCT = '/sys/fs/cgroup/cpuacct/hearth';

/**
 * CPU time (ms) used so far by a process and, separately, by the containers it started (their
 * cpuacct cgroups, cgroup v1). On a machine shared with other work the calls/s of a run swing
 * widely; the CPU each call costs is the steadier figure to compare two builds by.
 */
export function cpuUsedMs(pid: number): { serverMs: number; containersMs: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command (which may hold spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const serverMs = ((Number(fields[11]) + Number(fields[12])) / TICKS_PER_S) * 1000;
  return { serverMs, containersMs: containersCpuMs(pid) };
}

function containersCpuMs(pid: number): number {
  let ns = 0;
  let instances: string[];
  try {
    instances = readdirSync(CPUACCT, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name);
  } catch {
    return NaN;
  }
  for (const instance of instances) {
    const dir = path.join(CPUACCT, instance);
    for (const c of readdirSync(dir, { withFileTypes: true })) {
      if (!c.isDirectory()) continue;
      const procs = readFileSync(path.join(dir, c.name, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
      if (procs.some((p) => descendsFrom(p, pid))) ns += Number(readFileSync(path.join(dir, c.name, 'cpuacct.usage'), 'utf8'));
    }
  }
  return ns / 1e6;
}

function descendsFrom(p: number, ancestor: number): boolean {
  for (let cur = p, hops = 0; cur > 1 && hops < 32; hops++) {
    if (cur === ancestor) return true;
    try {
      const stat = readFileSync(`/proc/${cur}/stat`, 'utf8');
      cur = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** The managed redis-server Hearth started: a child of it (in its own process group) named redis-server. */
function managedRedisPid(hearthPid: number): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const status = readFileSync(`/proc/${entry}/status`, 'utf8');
      if (/^Name:\s*redis-server$/m.test(status) && new RegExp(`^PPid:\\s*${hearthPid}$`, 'm').test(status)) return Number(entry);
    } catch {
      // gone meanwhile
    }
  }
  throw new Error(`no redis-server started by ${hearthPid}`);
}

/** µs of CPU one call cost a Hearth server, its managed Redis and its containers. */
export interface CpuPerCall {
  serverUs: number;
  redisUs: number;
  containerUs: number;
}

/**
 * Starts counting the CPU a Hearth (by pid) and what it started use; `perCall(calls)`, after the
 * load, divides what was used since by the calls made.
 */
export function cpuMeter(hearthPid: number): { perCall(calls: number): CpuPerCall } {
  const redisPid = managedRedisPid(hearthPid);
  const read = () => ({ ...cpuUsedMs(hearthPid), redisMs: cpuUsedMs(redisPid).serverMs });
  const before = read();
  return {
    perCall(calls) {
      const after = read();
      const us = (ms: number) => (ms * 1000) / calls;
      return {
        serverUs: us(after.serverMs - before.serverMs),
        redisUs: us(after.redisMs - before.redisMs),
        containerUs: us(after.containersMs - before.containersMs),
      };
    },
  };
}
