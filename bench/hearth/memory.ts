import { readdir, readFile } from 'node:fs/promises';
import { median, sleep } from '../stats.ts';
import type { HearthApi } from './api.ts';
import { tinySource } from './cold.ts';

export interface MemoryFigures {
  /** Host memory (PSS) per idle warm container, p50 MiB. */
  p50MiB: number;
  /** The part no other process shares (USS): what one more container adds, p50 MiB. */
  privateP50MiB: number;
  samples: number;
}

export interface ContainerMemory {
  pssMiB: number;
  privateMiB: number;
}

/**
 * `n` new one-line functions, each invoked once, left idle for a second, measured, then removed.
 * Run on a Hearth with no other containers: PSS shares the pages common to all containers (node's
 * code) among them, so the figure is only comparable between runs at the same container count.
 */
export async function measureIdleMemory(api: HearthApi, hearthPid: number, n: number): Promise<MemoryFigures> {
  const names = Array.from({ length: n }, (_, i) => `idle-${i}`);
  for (const [i, name] of names.entries()) {
    await api.deploy(name, tinySource(i), { idleTimeoutMs: 600_000 });
    await api.invoke(name);
  }
  await sleep(1000);
  const ids = (await api.pool()).containers.filter((c) => names.includes(c.function) && c.state === 'idle').map((c) => c.id);
  const perContainer = [...(await hostMemoryPerContainer(hearthPid, ids)).values()];
  for (const name of names) await api.remove(name);
  return { p50MiB: median(perContainer.map((m) => m.pssMiB)), privateP50MiB: median(perContainer.map((m) => m.privateMiB)), samples: perContainer.length };
}

interface Proc {
  pid: number;
  ppid: number;
  /** Memory cgroup path (cgroup v1 `memory` line, or the v2 unified path). */
  cgroup: string;
}

/**
 * Host memory each container costs, MiB: the PSS of the processes in its cgroup, plus the PSS of
 * every host process between the container and the Hearth server (such as a `runc run` parent that
 * stays outside the cgroup for the container's life). A host process on several containers' paths
 * (one supervisor for all) is shared out evenly between them.
 */
export async function hostMemoryPerContainer(hearthPid: number, containerIds: string[]): Promise<Map<string, ContainerMemory>> {
  const procs = await processTable();
  const byPid = new Map(procs.map((p) => [p.pid, p]));
  const ancestorsOfHearth = new Set<number>();
  for (let p = byPid.get(hearthPid); p; p = byPid.get(p.ppid)) ancestorsOfHearth.add(p.pid);

  const inside = new Map<string, Proc[]>();
  const outside = new Map<string, Set<number>>();
  for (const id of containerIds) {
    const members = procs.filter((p) => p.cgroup.endsWith(`/${id}`));
    inside.set(id, members);
    const hosts = new Set<number>();
    for (const m of members) {
      // Up from the container's processes until the Hearth server (or anything above it, or init).
      for (let p = byPid.get(m.ppid); p && p.pid > 1 && !ancestorsOfHearth.has(p.pid); p = byPid.get(p.ppid)) {
        if (!p.cgroup.endsWith(`/${id}`)) hosts.add(p.pid);
      }
    }
    outside.set(id, hosts);
  }
  const sharers = new Map<number, number>();
  for (const hosts of outside.values()) for (const pid of hosts) sharers.set(pid, (sharers.get(pid) ?? 0) + 1);

  const result = new Map<string, ContainerMemory>();
  for (const id of containerIds) {
    const members = inside.get(id)!;
    if (members.length === 0) continue;
    let pss = 0;
    let own = 0;
    for (const m of members) {
      const mem = await memoryOf(m.pid);
      pss += mem.pss;
      own += mem.private;
    }
    for (const pid of outside.get(id)!) {
      const mem = await memoryOf(pid);
      pss += mem.pss / sharers.get(pid)!;
      own += mem.private / sharers.get(pid)!;
    }
    result.set(id, { pssMiB: pss / 2 ** 20, privateMiB: own / 2 ** 20 });
  }
  return result;
}

async function processTable(): Promise<Proc[]> {
  const procs: Proc[] = [];
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const [stat, cgroups] = await Promise.all([readFile(`/proc/${entry}/stat`, 'utf8'), readFile(`/proc/${entry}/cgroup`, 'utf8')]).catch(() => ['', '']);
    if (!stat) continue;
    // The command name may hold spaces and parentheses: ppid is the second field after the last ')'.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    const lines = cgroups.split('\n');
    const memory = lines.find((l) => /^\d+:([^:]*,)?memory(,[^:]*)?:/.test(l)) ?? lines.find((l) => l.startsWith('0::')) ?? '';
    procs.push({ pid: Number(entry), ppid, cgroup: memory.slice(memory.indexOf(':', memory.indexOf(':') + 1) + 1) });
  }
  return procs;
}

/** PSS and private (clean + dirty) bytes of one process. */
async function memoryOf(pid: number): Promise<{ pss: number; private: number }> {
  const text = await readFile(`/proc/${pid}/smaps_rollup`, 'utf8').catch(() => '');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? 0) * 1024;
  return { pss: kb('Pss'), private: kb('Private_Clean') + kb('Private_Dirty') };
}
