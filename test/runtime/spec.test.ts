/** Spec generation is pure: spec in → JSON out, no I/O. */
import { describe, expect, it } from 'vitest';
import {
  buildSpec,
  defaultSpec,
  functionSpec,
  LEGACY_AGENT_PATH,
  maxOldSpaceMb,
  withAnnotations,
  withCgroupsPath,
  withCpus,
  withCwd,
  withEnv,
  withHostname,
  withMaskedPaths,
  withMemoryLimit,
  withMount,
  withPidsLimit,
  withProcessArgs,
  withReadonlyPaths,
  withRlimit,
  withTmpfs,
  withUser,
  type Spec,
  type SpecOpt,
} from '../../src/runtime/spec/index.ts';

const apply = (opt: SpecOpt): Spec => buildSpec([opt]);
const mount = (s: Spec, dest: string) => s.mounts.find((m) => m.destination === dest);

describe('defaultSpec: the hardened base', () => {
  const s = defaultSpec();

  it('is OCI 1.0.2 with a read-only root and an unprivileged, capability-less process', () => {
    expect(s.ociVersion).toBe('1.0.2');
    expect(s.root).toEqual({ path: 'rootfs', readonly: true });
    expect(s.process.user).toEqual({ uid: 1000, gid: 1000 });
    expect(s.process.cwd).toBe('/function');
    expect(s.process.terminal).toBe(false);
    expect(s.process.noNewPrivileges).toBe(true);
    expect(s.process.capabilities).toEqual({ bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] });
    expect(s.process.rlimits.map((r) => r.type).sort()).toEqual(['RLIMIT_CORE', 'RLIMIT_NOFILE', 'RLIMIT_NPROC']);
    expect(s.process.rlimits.find((r) => r.type === 'RLIMIT_NOFILE')).toEqual({ type: 'RLIMIT_NOFILE', soft: 1024, hard: 1024 });
    expect(s.process.rlimits.find((r) => r.type === 'RLIMIT_CORE')).toEqual({ type: 'RLIMIT_CORE', soft: 0, hard: 0 });
  });

  it('unshares pid, mount, ipc, uts and network (no path: a fresh netns with only loopback)', () => {
    expect(s.linux.namespaces).toEqual([{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }]);
  });

  it('denies all devices (runc appends the standard safe ones)', () => {
    expect(s.linux.resources.devices).toEqual([{ allow: false, access: 'rwm' }]);
  });

  it('mounts proc, a small /dev, devpts, shm, mqueue, read-only sysfs and tmpfs /tmp and /run', () => {
    expect(s.mounts.map((m) => m.destination)).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/tmp', '/run']);
    expect(mount(s, '/proc')).toEqual({ destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] });
    expect(mount(s, '/dev')?.options).toEqual(['nosuid', 'strictatime', 'mode=755', 'size=65536k']);
    expect(mount(s, '/sys')?.options).toContain('ro');
    expect(mount(s, '/tmp')?.options).toEqual(['nosuid', 'nodev', 'mode=1777', 'size=64m']);
    expect(mount(s, '/dev/shm')?.options).toContain('size=16m');
    for (const m of s.mounts) expect(m.options).toContain('nosuid');
  });

  it('masks and write-protects the containerd + Docker default /proc and /sys paths', () => {
    for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/proc/sched_debug', '/proc/scsi', '/proc/interrupts', '/sys/firmware', '/sys/devices/virtual/powercap', '/proc/acpi']) {
      expect(s.linux.maskedPaths).toContain(p);
    }
    expect(s.linux.readonlyPaths).toEqual(['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
  });

  it('is a fresh object every time (options cannot leak between containers)', () => {
    const a = buildSpec([withHostname('a'), withMaskedPaths(['/x'])]);
    expect(defaultSpec().hostname).toBeUndefined();
    expect(defaultSpec().linux.maskedPaths).not.toContain('/x');
    expect(a.linux.maskedPaths).toContain('/x');
  });
});

describe('spec options', () => {
  it('withHostname sets and validates the hostname', () => {
    expect(apply(withHostname('fn-abc.local')).hostname).toBe('fn-abc.local');
    expect(() => withHostname('bad host')).toThrow(RangeError);
    expect(() => withHostname('x'.repeat(65))).toThrow(RangeError);
    expect(() => withHostname('')).toThrow(RangeError);
  });

  it('withProcessArgs replaces args and refuses an empty list', () => {
    expect(apply(withProcessArgs('/bin/a', '-x')).process.args).toEqual(['/bin/a', '-x']);
    expect(() => withProcessArgs()).toThrow(RangeError);
  });

  it('withCwd and withUser', () => {
    expect(apply(withCwd('/app')).process.cwd).toBe('/app');
    expect(() => withCwd('rel')).toThrow(RangeError);
    expect(apply(withUser(2000, 3000)).process.user).toEqual({ uid: 2000, gid: 3000 });
  });

  it('withEnv sets variables, later values replacing earlier ones in place', () => {
    const s = buildSpec([withEnv({ A: '1', B: '2' }), withEnv({ A: 'x=y', C: '' })]);
    expect(s.process.env).toEqual(['A=x=y', 'B=2', 'C=']);
    expect(() => withEnv({ 'A=B': '1' })).toThrow(RangeError);
    expect(() => withEnv({ A: 'nul\0' })).toThrow(RangeError);
  });

  it('withRlimit replaces a limit of the same type or adds one', () => {
    const s = buildSpec([withRlimit('RLIMIT_NOFILE', 64), withRlimit('RLIMIT_AS', 1, 2)]);
    expect(s.process.rlimits.filter((r) => r.type === 'RLIMIT_NOFILE')).toEqual([{ type: 'RLIMIT_NOFILE', soft: 64, hard: 64 }]);
    expect(s.process.rlimits).toContainEqual({ type: 'RLIMIT_AS', soft: 1, hard: 2 });
    expect(() => withRlimit('RLIMIT_AS', 3, 2)).toThrow(RangeError);
  });

  it('withMemoryLimit sets limit and swap (memory+swap) equal, in bytes: no swap', () => {
    expect(apply(withMemoryLimit(128)).linux.resources.memory).toEqual({ limit: 134217728, swap: 134217728 });
    expect(() => withMemoryLimit(0)).toThrow(RangeError);
    expect(() => withMemoryLimit(1.5)).toThrow(RangeError);
  });

  it('withCpus turns a CPU count into a CFS quota over a 100 ms period', () => {
    expect(apply(withCpus(1)).linux.resources.cpu).toEqual({ quota: 100000, period: 100000 });
    expect(apply(withCpus(0.5)).linux.resources.cpu).toEqual({ quota: 50000, period: 100000 });
    expect(apply(withCpus(2)).linux.resources.cpu).toEqual({ quota: 200000, period: 100000 });
    expect(apply(withCpus(0.001)).linux.resources.cpu?.quota).toBe(1000);
    expect(() => withCpus(0)).toThrow(RangeError);
    expect(() => withCpus(Number.NaN)).toThrow(RangeError);
  });

  it('withPidsLimit', () => {
    expect(apply(withPidsLimit(64)).linux.resources.pids).toEqual({ limit: 64 });
    expect(() => withPidsLimit(-1)).toThrow(RangeError);
  });

  it('withTmpfs resizes /tmp without touching the other mounts', () => {
    const s = apply(withTmpfs(16));
    expect(mount(s, '/tmp')?.options).toEqual(['nosuid', 'nodev', 'mode=1777', 'size=16m']);
    expect(s.mounts).toHaveLength(defaultSpec().mounts.length);
  });

  it('withMount adds or replaces by destination', () => {
    const m = { destination: '/data', type: 'bind', source: '/srv/data', options: ['rbind', 'ro'] };
    expect(mount(apply(withMount(m)), '/data')).toEqual(m);
    expect(() => withMount({ destination: 'data' })).toThrow(RangeError);
  });

  it('withCgroupsPath accepts only a clean absolute path', () => {
    expect(apply(withCgroupsPath('/hearth/i1/c1')).linux.cgroupsPath).toBe('/hearth/i1/c1');
    expect(() => withCgroupsPath('hearth/x')).toThrow(RangeError);
    expect(() => withCgroupsPath('/hearth/../x')).toThrow(RangeError);
    expect(() => withCgroupsPath('/')).toThrow(RangeError);
    expect(() => withCgroupsPath('/hearth//x')).toThrow(RangeError);
  });

  it('withMaskedPaths / withReadonlyPaths append without duplicates', () => {
    const s = buildSpec([withMaskedPaths(['/proc/kcore', '/proc/new']), withReadonlyPaths(['/proc/sys', '/proc/other'])]);
    expect(s.linux.maskedPaths.filter((p) => p === '/proc/kcore')).toHaveLength(1);
    expect(s.linux.maskedPaths).toContain('/proc/new');
    expect(s.linux.readonlyPaths.filter((p) => p === '/proc/sys')).toHaveLength(1);
    expect(s.linux.readonlyPaths).toContain('/proc/other');
  });

  it('withAnnotations merges', () => {
    expect(buildSpec([withAnnotations({ a: '1' }), withAnnotations({ b: '2' })]).annotations).toEqual({ a: '1', b: '2' });
  });
});

describe('functionSpec: a function container', () => {
  const params = {
    hostname: 'hello-1',
    memoryMb: 256,
    cpus: 0.5,
    pidsLimit: 64,
    tmpfsMb: 32,
    cgroupsPath: '/hearth/abc/hello-1',
    env: { GREETING: 'hi', NODE_ENV: 'development', HEARTH_FUNCTION: 'spoofed' },
    functionName: 'hello',
    version: 3,
    cpuCount: 2,
  };
  const s = functionSpec(params);

  it('runs tini as pid 1 with node (heap at ~75% of memory) and the agent', () => {
    expect(s.process.args).toEqual(['/usr/bin/tini', '--', '/usr/bin/node', '--max-old-space-size=192', '/hearth/agent.cjs']);
    // Images whose base layer ships the preload: node runs it first, so its code cache stays valid.
    expect(functionSpec({ ...params, nodePreload: true }).process.args).toEqual(
      ['/usr/bin/tini', '--', '/usr/bin/node', '--max-old-space-size=192', '--require', '/hearth/code-cache.cjs', '/hearth/agent.cjs'],
    );
    // Base layers from before the CommonJS agent hold it as an ES module.
    expect(functionSpec({ ...params, agentPath: LEGACY_AGENT_PATH }).process.args.at(-1)).toBe('/hearth/agent.mjs');
    expect(maxOldSpaceMb(128)).toBe(96);
    expect(maxOldSpaceMb(16)).toBe(16);
  });

  it('layers env: defaults, then the user (may override NODE_ENV), then HEARTH_* (may not be overridden)', () => {
    expect(s.process.env).toEqual([
      'PATH=/usr/local/bin:/usr/bin:/bin',
      'NODE_ENV=development',
      'HOME=/tmp',
      'GREETING=hi',
      'HEARTH_FUNCTION=hello',
      'HEARTH_VERSION=3',
      'HEARTH_MEMORY_MB=256',
    ]);
  });

  it('applies the resource limits, cgroup path, hostname and per-CPU masks', () => {
    expect(s.hostname).toBe('hello-1');
    expect(s.linux.resources).toEqual({
      devices: [{ allow: false, access: 'rwm' }],
      memory: { limit: 256 * 1024 * 1024, swap: 256 * 1024 * 1024 },
      cpu: { quota: 50000, period: 100000 },
      pids: { limit: 64 },
    });
    expect(s.linux.cgroupsPath).toBe('/hearth/abc/hello-1');
    expect(mount(s, '/tmp')?.options).toContain('size=32m');
    expect(s.linux.maskedPaths).toContain('/sys/devices/system/cpu/cpu1/thermal_throttle');
    expect(s.linux.maskedPaths).not.toContain('/sys/devices/system/cpu/cpu2/thermal_throttle');
  });

  it('extra options run last (the seam for seccomp / user namespaces)', () => {
    const seccomp: SpecOpt = (spec) => {
      spec.linux.seccomp = { defaultAction: 'SCMP_ACT_ERRNO', defaultErrnoRet: 1, syscalls: [] };
    };
    expect(functionSpec(params, [seccomp, withHostname('other')])).toMatchObject({
      hostname: 'other',
      linux: { seccomp: { defaultAction: 'SCMP_ACT_ERRNO' } },
    });
  });

  it('round-trips through JSON unchanged (it is written verbatim as config.json)', () => {
    expect(JSON.parse(JSON.stringify(s))).toEqual(s);
  });
});
