/** The hardening options, pure: seccomp profile, user namespace, joined network namespace. */
import { describe, expect, it } from 'vitest';
import {
  ALLOWED_SYSCALLS,
  buildSpec,
  CLONE_NAMESPACE_FLAGS,
  DENIED_SYSCALLS,
  ENOSYS,
  EPERM,
  functionSpec,
  hearthSeccompProfile,
  mappedHostIds,
  UserNamespaceRanges,
  USERNS_RANGE_SIZE,
  withNetworkNamespace,
  withOverlayRoot,
  withRootPath,
  withSeccomp,
  withUserNamespace,
  type Seccomp,
  type SeccompArg,
} from '../../src/runtime/spec/index.ts';
import { defaultSubnet } from '../../src/runtime/network/index.ts';

/** What libseccomp would decide for one call: the first matching rule's action, else the default. */
function decide(p: Seccomp, name: string, args: number[] = []): string {
  const argMatches = (a: SeccompArg) => {
    const v = args[a.index] ?? 0;
    if (a.op === 'SCMP_CMP_EQ') return v === a.value;
    if (a.op === 'SCMP_CMP_NE') return v !== a.value;
    if (a.op === 'SCMP_CMP_MASKED_EQ') return (v & a.value) === a.valueTwo;
    throw new Error(`op ${a.op}`);
  };
  for (const rule of p.syscalls ?? []) {
    if (!rule.names.includes(name)) continue;
    if ((rule.args ?? []).every(argMatches)) return rule.action === 'SCMP_ACT_ERRNO' ? `ERRNO(${rule.errnoRet})` : rule.action;
  }
  return `ERRNO(${p.defaultErrnoRet})`;
}

describe('seccomp profile', () => {
  const p = hearthSeccompProfile('x64');
  const allowed = (name: string, args?: number[]) => decide(p, name, args) === 'SCMP_ACT_ALLOW';

  it('denies by default with EPERM, for the host architecture only', () => {
    expect(p.defaultAction).toBe('SCMP_ACT_ERRNO');
    expect(p.defaultErrnoRet).toBe(EPERM);
    expect(p.architectures).toEqual(['SCMP_ARCH_X86_64']);
    expect(hearthSeccompProfile('arm64').architectures).toEqual(['SCMP_ARCH_AARCH64']);
    expect(() => hearthSeccompProfile('ia32')).toThrow();
  });

  it('never allows the escape and kernel-attack syscalls', () => {
    expect(new Set(ALLOWED_SYSCALLS).size).toBe(ALLOWED_SYSCALLS.length);
    for (const name of DENIED_SYSCALLS) expect({ name, allowed: allowed(name) }).toEqual({ name, allowed: false });
    for (const name of ['mount', 'unshare', 'setns', 'ptrace', 'bpf', 'keyctl', 'perf_event_open', 'kexec_load', 'init_module', 'finit_module', 'io_uring_setup', 'userfaultfd']) {
      expect(decide(p, name)).toBe(`ERRNO(${EPERM})`);
    }
  });

  it('lets ordinary programs run (node, tini, glibc)', () => {
    for (const name of ['read', 'write', 'openat', 'mmap', 'futex', 'epoll_wait', 'execve', 'wait4', 'getrandom', 'rseq', 'statx', 'prctl']) expect(allowed(name)).toBe(true);
  });

  it('allows clone only without namespace flags; clone3 says ENOSYS so glibc falls back to clone', () => {
    const SIGCHLD = 17;
    expect(allowed('clone', [SIGCHLD | 0x01200000])).toBe(true); // fork: CHILD_SETTID|CHILD_CLEARTID
    expect(allowed('clone', [0x3d0f00])).toBe(true); // pthread_create
    for (const flag of [0x20000, 0x02000000, 0x04000000, 0x08000000, 0x10000000, 0x20000000, 0x40000000]) {
      expect(flag & CLONE_NAMESPACE_FLAGS).toBe(flag);
      expect(allowed('clone', [SIGCHLD | flag])).toBe(false);
    }
    expect(decide(p, 'clone3')).toBe(`ERRNO(${ENOSYS})`);
  });

  it('allows unix, TCP/UDP and NETLINK_ROUTE sockets; no raw, packet, vsock or other families', () => {
    const NONBLOCK_CLOEXEC = 0x800 | 0x80000;
    expect(allowed('socket', [1, 1])).toBe(true);
    expect(allowed('socket', [1, 5 | NONBLOCK_CLOEXEC])).toBe(true);
    for (const family of [2, 10]) {
      expect(allowed('socket', [family, 1 | NONBLOCK_CLOEXEC, 6])).toBe(true);
      expect(allowed('socket', [family, 2, 17])).toBe(true);
      expect(allowed('socket', [family, 3, 1])).toBe(false); // SOCK_RAW
      expect(allowed('socket', [family, 3 | NONBLOCK_CLOEXEC, 255])).toBe(false);
      expect(allowed('socket', [family, 10])).toBe(false); // SOCK_PACKET
    }
    expect(allowed('socket', [16, 3 | NONBLOCK_CLOEXEC, 0])).toBe(true); // NETLINK_ROUTE (getifaddrs)
    expect(allowed('socket', [16, 3, 9])).toBe(false); // NETLINK_AUDIT
    for (const family of [17, 40, 38, 15, 31]) expect(allowed('socket', [family, 1])).toBe(false); // packet, vsock, alg, key, bluetooth
    expect(allowed('socketpair', [1, 1])).toBe(true);
    expect(allowed('socketpair', [2, 1])).toBe(false);
  });

  it('is installed on every function container, as a copy', () => {
    const s = functionSpec({ hostname: 'h', memoryMb: 128, cpus: 1, pidsLimit: 64, tmpfsMb: 16, cgroupsPath: '/hearth/a/b', env: {}, functionName: 'f', version: 1 });
    expect(s.linux.seccomp).toEqual(hearthSeccompProfile());
    const profile = hearthSeccompProfile();
    const spec = buildSpec([withSeccomp(profile)]);
    profile.syscalls!.length = 0;
    expect(spec.linux.seccomp!.syscalls!.length).toBeGreaterThan(0);
  });
});

describe('user namespace', () => {
  it('maps container root to the given unprivileged host range', () => {
    const s = buildSpec([withUserNamespace({ hostUid: 1_000_065_536, hostGid: 1_000_065_536, size: 65536 })]);
    expect(s.linux.namespaces).toContainEqual({ type: 'user' });
    expect(s.linux.uidMappings).toEqual([{ containerID: 0, hostID: 1_000_065_536, size: 65536 }]);
    expect(s.linux.gidMappings).toEqual([{ containerID: 0, hostID: 1_000_065_536, size: 65536 }]);
    // The function still runs as uid 1000 inside (host uid base + 1000), with no capabilities.
    expect(s.process.user).toEqual({ uid: 1000, gid: 1000 });
  });

  it('refuses ranges that include host root or system ids, or overflow uid_t', () => {
    expect(() => withUserNamespace({ hostUid: 0, hostGid: 0, size: 65536 })).toThrow(RangeError);
    expect(() => withUserNamespace({ hostUid: 1000, hostGid: 100000, size: 65536 })).toThrow(RangeError);
    expect(() => withUserNamespace({ hostUid: 2 ** 32 - 100, hostGid: 100000, size: 65536 })).toThrow(RangeError);
    expect(() => withUserNamespace({ hostUid: 100000, hostGid: 100000, size: 0 })).toThrow(RangeError);
  });

  it('says which host ids a container id is (for files the function must own, e.g. secrets)', () => {
    const range = { hostUid: 1_000_131_072, hostGid: 1_000_131_072, size: 65536 };
    expect(mappedHostIds(range, 1000, 1000)).toEqual({ uid: 1_000_132_072, gid: 1_000_132_072 });
    expect(() => mappedHostIds(range, 70000, 0)).toThrow(RangeError);
  });

  it('hands out a distinct range per live container and reuses released ones', () => {
    const r = new UserNamespaceRanges(1_000_000_000, 3, 2);
    const a = r.allocate();
    const b = r.allocate();
    const c = r.allocate();
    expect(new Set([a.hostUid, b.hostUid, c.hostUid]).size).toBe(3);
    expect(a.hostUid).toBe(1_000_000_000 + 2 * USERNS_RANGE_SIZE);
    expect(() => r.allocate()).toThrow(/no free/);
    r.release(b.slot);
    expect(r.allocate().hostUid).toBe(b.hostUid);
  });
});

describe('joined network namespace and root path', () => {
  it('points the network namespace at the prepared path and swaps sysfs for an empty read-only tmpfs', () => {
    const s = buildSpec([withNetworkNamespace('/run/netns/hearth-x-c1')]);
    expect(s.linux.namespaces.filter((n) => n.type === 'network')).toEqual([{ type: 'network', path: '/run/netns/hearth-x-c1' }]);
    const sys = s.mounts.find((m) => m.destination === '/sys');
    expect(sys?.type).toBe('tmpfs');
    expect(sys?.options).toContain('ro');
    expect(() => withNetworkNamespace('relative')).toThrow(RangeError);
  });

  it('withRootPath keeps the root read-only', () => {
    expect(buildSpec([withRootPath('/run/hearth/x.rootfs/c1')]).root).toEqual({ path: '/run/hearth/x.rootfs/c1', readonly: true });
    expect(() => withRootPath('')).toThrow(RangeError);
  });

  it('withOverlayRoot makes the read-only overlay the first mount, read through user xattrs; paths that would misparse are refused', () => {
    const s = buildSpec([withOverlayRoot(['/l/fn', '/l/base'])]);
    expect(s.mounts[0]).toEqual({ destination: '/', type: 'overlay', source: 'overlay', options: ['ro', 'userxattr', 'lowerdir=/l/fn:/l/base'] });
    expect(s.mounts.filter((m) => m.destination === '/')).toHaveLength(1);
    expect(buildSpec([withOverlayRoot(['/a', '/b']), withOverlayRoot(['/c', '/d'])]).mounts.filter((m) => m.destination === '/')).toHaveLength(1);
    for (const bad of [['/one'], ['/a:b', '/c'], ['/a,upperdir=/x', '/c'], ['relative', '/c']]) expect(() => withOverlayRoot(bad)).toThrow(RangeError);
  });

  it('bridge subnets are /24s in 10.128.0.0/10, stable per instance', () => {
    const s = defaultSubnet('abc');
    expect(s).toMatch(/^10\.(1[2-8]\d|19[01])\.\d{1,3}\.0\/24$/);
    expect(defaultSubnet('abc')).toBe(s);
    expect(defaultSubnet('abc', 1)).not.toBe(s);
  });
});
