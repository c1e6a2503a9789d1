import type { Spec } from './types.ts';

/** containerd `populateDefaultUnixSpec` masked paths, plus Docker's /proc/interrupts. */
export const DEFAULT_MASKED_PATHS = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/interrupts',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Docker also masks each CPU's thermal_throttle dir (it leaks host hardware state). */
export function thermalThrottlePaths(cpuCount: number): string[] {
  return Array.from({ length: cpuCount }, (_, i) => `/sys/devices/system/cpu/cpu${i}/thermal_throttle`);
}

export const FUNCTION_UID = 1000;
export const FUNCTION_GID = 1000;

/**
 * The hardened base every container starts from: its own pid/mount/ipc/uts/network namespaces
 * (a fresh netns has only loopback, which runc brings up), read-only root, unprivileged user, no
 * capabilities, no-new-privileges, deny-all devices. Options only ever narrow or fill this in.
 */
export function defaultSpec(): Spec {
  return {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: FUNCTION_UID, gid: FUNCTION_GID },
      args: [],
      env: [],
      cwd: '/function',
      capabilities: { bounding: [], effective: [], inheritable: [], permitted: [], ambient: [] },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 1024, soft: 1024 },
        // RLIMIT_NPROC counts every thread of the (host) uid; with a user namespace each container
        // has a host uid of its own, so this is a per-container backstop; pids.limit is the real
        // cap. A node process is ~11 threads.
        { type: 'RLIMIT_NPROC', hard: 4096, soft: 4096 },
        { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
      ],
      noNewPrivileges: true,
    },
    root: { path: 'rootfs', readonly: true },
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=16m'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/tmp', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'mode=1777', 'size=64m'] },
      { destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'nodev', 'noexec', 'mode=755', 'size=1m'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'mount' }, { type: 'ipc' }, { type: 'uts' }, { type: 'network' }],
      // runc appends the standard null/zero/full/random/urandom/tty/ptmx rules after these.
      resources: { devices: [{ allow: false, access: 'rwm' }] },
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: [...DEFAULT_READONLY_PATHS],
    },
  };
}
