/**
 * Spec options, containerd style: each is tiny, validates its input when built (so a bad value
 * fails at the call site, not inside runc) and mutates the spec it is applied to.
 */
import type { Mount, Rlimit, SpecOpt } from './types.ts';

const MIB = 1024 * 1024;
/** cgroup v1 CFS period (µs); the quota is a share of it. */
export const CPU_PERIOD_US = 100_000;

function positiveInt(name: string, value: number): void {
  if (!Number.isInteger(value) || value <= 0) throw new RangeError(`${name} must be a positive integer, got ${value}`);
}

/** Linux caps the UTS hostname at 64 bytes; keep it to DNS-label characters. */
export function withHostname(hostname: string): SpecOpt {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(hostname)) throw new RangeError(`invalid hostname ${JSON.stringify(hostname)}`);
  return function hostnameOpt(spec) {
    spec.hostname = hostname;
  };
}

export function withProcessArgs(...args: string[]): SpecOpt {
  if (args.length === 0) throw new RangeError('process args must not be empty');
  return function processArgsOpt(spec) {
    spec.process.args = [...args];
  };
}

/** The rootfs dir: relative to the bundle, or absolute. It stays read-only. */
export function withRootPath(path: string): SpecOpt {
  if (path === '' || path.includes('\0')) throw new RangeError('invalid root path');
  return function rootPathOpt(spec) {
    spec.root = { ...spec.root, path };
  };
}

/**
 * The rootfs: a read-only overlay of `lowerDirs` (top-most first; at least two, since an overlay
 * without an upperdir needs two), mounted by runc on the root path inside the container's own
 * mount namespace, so the host's mount table never holds a container's rootfs. The first mount:
 * every other one is made on top of it.
 */
export function withOverlayRoot(lowerDirs: string[]): SpecOpt {
  if (lowerDirs.length < 2) throw new RangeError('an overlay rootfs needs at least two lowerdirs');
  for (const d of lowerDirs) {
    // ':' separates lowerdirs and ',' separates mount options: such a path would be misparsed.
    if (!d.startsWith('/') || /[:,\n\0]/.test(d)) throw new RangeError(`unusable layer dir path ${JSON.stringify(d)}`);
  }
  return function overlayRootOpt(spec) {
    // userxattr: in the container's user namespace overlayfs cannot read trusted.* xattrs, so an
    // opaque dir is marked user.overlay.opaque too (image unpack sets both).
    const overlay = { destination: '/', type: 'overlay', source: 'overlay', options: ['ro', 'userxattr', `lowerdir=${lowerDirs.join(':')}`] };
    spec.mounts = [overlay, ...spec.mounts.filter((m) => m.destination !== '/')];
  };
}

export function withCwd(cwd: string): SpecOpt {
  if (!cwd.startsWith('/')) throw new RangeError('cwd must be absolute');
  return function cwdOpt(spec) {
    spec.process.cwd = cwd;
  };
}

/** Sets variables; a later value for the same name replaces an earlier one. */
export function withEnv(env: Record<string, string>): SpecOpt {
  for (const [name, value] of Object.entries(env)) {
    if (name === '' || name.includes('=') || name.includes('\0')) throw new RangeError(`invalid env name ${JSON.stringify(name)}`);
    if (value.includes('\0')) throw new RangeError(`env ${name} contains a NUL byte`);
  }
  return function envOpt(spec) {
    for (const [name, value] of Object.entries(env)) {
      const entry = `${name}=${value}`;
      const i = spec.process.env.findIndex((e) => e.startsWith(`${name}=`));
      if (i === -1) spec.process.env.push(entry);
      else spec.process.env[i] = entry;
    }
  };
}

export function withUser(uid: number, gid: number): SpecOpt {
  return function userOpt(spec) {
    spec.process.user = { uid, gid };
  };
}

/** Replaces the limit of the same type, or adds it. */
export function withRlimit(type: string, soft: number, hard = soft): SpecOpt {
  if (soft > hard) throw new RangeError(`${type}: soft limit above hard limit`);
  return function rlimitOpt(spec) {
    const limit: Rlimit = { type, soft, hard };
    const i = spec.process.rlimits.findIndex((r) => r.type === type);
    if (i === -1) spec.process.rlimits.push(limit);
    else spec.process.rlimits[i] = limit;
  };
}

/** Memory limit in MiB. swap is memory+swap in cgroup v1, so swap = limit disables swap. */
export function withMemoryLimit(mb: number): SpecOpt {
  positiveInt('memoryMb', mb);
  return function memoryLimitOpt(spec) {
    spec.linux.resources.memory = { ...spec.linux.resources.memory, limit: mb * MIB, swap: mb * MIB };
  };
}

/** CPU bandwidth as a number of CPUs (fractions allowed): quota = cpus × period. */
export function withCpus(cpus: number): SpecOpt {
  if (!(cpus > 0) || !Number.isFinite(cpus)) throw new RangeError(`cpus must be > 0, got ${cpus}`);
  // The kernel refuses quotas below 1 ms.
  const quota = Math.max(1000, Math.round(cpus * CPU_PERIOD_US));
  return function cpusOpt(spec) {
    spec.linux.resources.cpu = { ...spec.linux.resources.cpu, quota, period: CPU_PERIOD_US };
  };
}

export function withPidsLimit(limit: number): SpecOpt {
  positiveInt('pidsLimit', limit);
  return function pidsLimitOpt(spec) {
    spec.linux.resources.pids = { limit };
  };
}

/** Adds a mount, replacing any existing mount at the same destination. */
export function withMount(mount: Mount): SpecOpt {
  if (!mount.destination.startsWith('/')) throw new RangeError('mount destination must be absolute');
  return function mountOpt(spec) {
    const i = spec.mounts.findIndex((m) => m.destination === mount.destination);
    if (i === -1) spec.mounts.push(mount);
    else spec.mounts[i] = mount;
  };
}

/** The writable scratch space at /tmp (the root is read-only); counted against the memory limit. */
export function withTmpfs(mb: number): SpecOpt {
  positiveInt('tmpfsMb', mb);
  return withMount({
    destination: '/tmp',
    type: 'tmpfs',
    source: 'tmpfs',
    options: ['nosuid', 'nodev', 'mode=1777', `size=${mb}m`],
  });
}

/** Absolute: relative to each cgroup hierarchy's mount, not to Hearth's own cgroup. */
export function withCgroupsPath(path: string): SpecOpt {
  const segments = path.split('/').slice(1);
  if (!path.startsWith('/') || segments.some((s) => !/^[A-Za-z0-9_.-]+$/.test(s) || s === '.' || s === '..')) {
    throw new RangeError(`invalid cgroups path ${JSON.stringify(path)}`);
  }
  return function cgroupsPathOpt(spec) {
    spec.linux.cgroupsPath = path;
  };
}

export function withMaskedPaths(paths: string[]): SpecOpt {
  return function maskedPathsOpt(spec) {
    for (const p of paths) if (!spec.linux.maskedPaths.includes(p)) spec.linux.maskedPaths.push(p);
  };
}

export function withReadonlyPaths(paths: string[]): SpecOpt {
  return function readonlyPathsOpt(spec) {
    for (const p of paths) if (!spec.linux.readonlyPaths.includes(p)) spec.linux.readonlyPaths.push(p);
  };
}

export function withAnnotations(annotations: Record<string, string>): SpecOpt {
  return function annotationsOpt(spec) {
    spec.annotations = { ...spec.annotations, ...annotations };
  };
}
