/**
 * Hearth's seccomp allow-list, in OCI form (what runc reads from config.json). Modelled on
 * Docker's default profile (moby/profiles seccomp/default.json) as it resolves for a container
 * with no capabilities, then narrowed further for untrusted function code:
 *
 * - anything not listed fails with EPERM (Docker's choice: programs treat it as "not allowed");
 * - no mount family, unshare, setns, pivot_root, chroot, ptrace, process_vm_*, kcmp, pidfd_getfd,
 *   bpf, keyctl / add_key / request_key, perf_event_open, kexec, module loading, reboot, swap,
 *   clock setting, userfaultfd, io_uring (Docker dropped it too), open_by_handle_at;
 * - clone only without namespace flags; clone3 answers ENOSYS so glibc falls back to clone,
 *   whose flags seccomp can see (clone3 passes them in memory, out of seccomp's reach);
 * - sockets only AF_UNIX, TCP/UDP over IPv4/IPv6 and NETLINK_ROUTE (node's os.networkInterfaces):
 *   no raw or packet sockets, no AF_VSOCK, AF_ALG, AF_KEY or other rarely used families;
 * - one architecture only (the host's): the 32-bit and x32 syscall tables are not reachable.
 *
 * runc 1.1 ignores names libseccomp does not know (e.g. x86-only names on arm64), and answers
 * ENOSYS for syscalls newer than every name in the profile, so future syscalls are denied too.
 */
import type { Seccomp, SeccompArg, SeccompSyscall } from './types.ts';

export const EPERM = 1;
export const ENOSYS = 38;

/** Namespace flags clone() must not carry: NEWNS|NEWCGROUP|NEWUTS|NEWIPC|NEWUSER|NEWPID|NEWNET. */
export const CLONE_NAMESPACE_FLAGS = 0x7e020000;

export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
export const AF_VSOCK = 40;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
/** The socket type without SOCK_NONBLOCK / SOCK_CLOEXEC. */
const SOCK_TYPE_MASK = 0xf;
const NETLINK_ROUTE = 0;

/** Allowed without conditions: Docker's unconditional list minus what it needs capabilities for. */
export const ALLOWED_SYSCALLS: readonly string[] = [
  'accept', 'accept4', 'access', 'alarm', 'arch_prctl', 'bind', 'brk', 'cachestat', 'capget', 'capset',
  'chdir', 'chmod', 'chown', 'clock_getres', 'clock_gettime', 'clock_nanosleep', 'close', 'close_range',
  'connect', 'copy_file_range', 'creat', 'dup', 'dup2', 'dup3', 'epoll_create', 'epoll_create1', 'epoll_ctl',
  'epoll_pwait', 'epoll_pwait2', 'epoll_wait', 'eventfd', 'eventfd2', 'execve', 'execveat', 'exit',
  'exit_group', 'faccessat', 'faccessat2', 'fadvise64', 'fallocate', 'fchdir', 'fchmod', 'fchmodat',
  'fchmodat2', 'fchown', 'fchownat', 'fcntl', 'fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fork',
  'fremovexattr', 'fsetxattr', 'fstat', 'fstatfs', 'fsync', 'ftruncate', 'futex', 'futex_requeue',
  'futex_wait', 'futex_waitv', 'futex_wake', 'futimesat', 'get_robust_list', 'getcpu', 'getcwd',
  'getdents', 'getdents64', 'getegid', 'geteuid', 'getgid', 'getgroups', 'getitimer', 'getpeername',
  'getpgid', 'getpgrp', 'getpid', 'getppid', 'getpriority', 'getrandom', 'getresgid', 'getresuid',
  'getrlimit', 'getrusage', 'getsid', 'getsockname', 'getsockopt', 'gettid', 'gettimeofday', 'getuid',
  'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1', 'inotify_rm_watch', 'io_cancel',
  'io_destroy', 'io_getevents', 'io_pgetevents', 'io_setup', 'io_submit', 'ioctl', 'ioprio_get',
  'ioprio_set', 'kill', 'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self', 'lchown',
  'lgetxattr', 'link', 'linkat', 'listen', 'listxattr', 'llistxattr', 'lremovexattr', 'lseek', 'lsetxattr',
  'lstat', 'madvise', 'membarrier', 'memfd_create', 'mincore', 'mkdir', 'mkdirat', 'mknod', 'mknodat',
  'mlock', 'mlock2', 'mlockall', 'mmap', 'modify_ldt', 'mprotect', 'mq_getsetattr', 'mq_notify', 'mq_open',
  'mq_timedreceive', 'mq_timedsend', 'mq_unlink', 'mremap', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'msync',
  'munlock', 'munlockall', 'munmap', 'name_to_handle_at', 'nanosleep', 'newfstatat', 'open', 'openat',
  'openat2', 'pause', 'pidfd_open', 'pidfd_send_signal', 'pipe', 'pipe2', 'pkey_alloc', 'pkey_free',
  'pkey_mprotect', 'poll', 'ppoll', 'prctl', 'pread64', 'preadv', 'preadv2', 'prlimit64', 'process_mrelease',
  'pselect6', 'pwrite64', 'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv',
  'recvfrom', 'recvmmsg', 'recvmsg', 'remap_file_pages', 'removexattr', 'rename', 'renameat', 'renameat2',
  'restart_syscall', 'rmdir', 'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask', 'rt_sigqueueinfo',
  'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_tgsigqueueinfo', 'sched_get_priority_max',
  'sched_get_priority_min', 'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_getscheduler',
  'sched_rr_get_interval', 'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler',
  'sched_yield', 'seccomp', 'select', 'semctl', 'semget', 'semop', 'semtimedop', 'sendfile', 'sendmmsg',
  'sendmsg', 'sendto', 'set_robust_list', 'set_tid_address', 'setfsgid', 'setfsuid', 'setgid', 'setgroups',
  'setitimer', 'setpgid', 'setpriority', 'setregid', 'setresgid', 'setresuid', 'setreuid', 'setrlimit',
  'setsid', 'setsockopt', 'setuid', 'setxattr', 'shmat', 'shmctl', 'shmdt', 'shmget', 'shutdown',
  'sigaltstack', 'signalfd', 'signalfd4', 'splice', 'stat', 'statfs', 'statx', 'symlink', 'symlinkat', 'sync',
  'sync_file_range', 'syncfs', 'sysinfo', 'tee', 'tgkill', 'time', 'timer_create', 'timer_delete',
  'timer_getoverrun', 'timer_gettime', 'timer_settime', 'timerfd_create', 'timerfd_gettime',
  'timerfd_settime', 'times', 'tkill', 'truncate', 'umask', 'uname', 'unlink', 'unlinkat', 'utime',
  'utimensat', 'utimes', 'vfork', 'vmsplice', 'wait4', 'waitid', 'write', 'writev',
];

/**
 * Named only to document (and test) that they stay denied; the profile never lists them, so the
 * default action (EPERM) applies.
 */
export const DENIED_SYSCALLS: readonly string[] = [
  'mount', 'umount2', 'pivot_root', 'chroot', 'unshare', 'setns', 'fsopen', 'fsmount', 'fsconfig', 'fspick',
  'move_mount', 'open_tree', 'mount_setattr', 'ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp',
  'pidfd_getfd', 'bpf', 'keyctl', 'add_key', 'request_key', 'perf_event_open', 'kexec_load',
  'kexec_file_load', 'init_module', 'finit_module', 'delete_module', 'reboot', 'swapon', 'swapoff', 'acct',
  'settimeofday', 'clock_settime', 'clock_adjtime', 'adjtimex', 'userfaultfd', 'io_uring_setup',
  'io_uring_enter', 'io_uring_register', 'open_by_handle_at', 'syslog', 'quotactl', 'vhangup', 'iopl',
  'ioperm', 'lookup_dcookie', 'fanotify_init', 'uselib', 'ustat',
  'sysfs', '_sysctl', 'nfsservctl', 'get_kernel_syms', 'query_module', 'create_module', 'mbind',
  'set_mempolicy', 'migrate_pages', 'move_pages', 'sethostname', 'setdomainname',
];

const allow = (names: string[], args?: SeccompArg[]): SeccompSyscall => ({ names, action: 'SCMP_ACT_ALLOW', ...(args ? { args } : {}) });
const eq = (index: number, value: number): SeccompArg => ({ index, value, op: 'SCMP_CMP_EQ' });
const maskedEq = (index: number, mask: number, value: number): SeccompArg => ({ index, value: mask, valueTwo: value, op: 'SCMP_CMP_MASKED_EQ' });

/** Rules with argument filters. Several rules for one syscall are alternatives (any may allow). */
function conditionalRules(): SeccompSyscall[] {
  const inetSockets: SeccompSyscall[] = [];
  for (const family of [AF_INET, AF_INET6]) {
    for (const type of [SOCK_STREAM, SOCK_DGRAM]) inetSockets.push(allow(['socket'], [eq(0, family), maskedEq(1, SOCK_TYPE_MASK, type)]));
  }
  return [
    // Docker's personality list: PER_LINUX, PER_LINUX32, UNAME26 variants, and the query value.
    ...[0x0, 0x8, 0x20000, 0x20008, 0xffffffff].map((p) => allow(['personality'], [eq(0, p)])),
    allow(['clone'], [maskedEq(0, CLONE_NAMESPACE_FLAGS, 0)]),
    { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS },
    allow(['socket'], [eq(0, AF_UNIX)]),
    ...inetSockets,
    allow(['socket'], [eq(0, AF_NETLINK), eq(2, NETLINK_ROUTE)]),
    allow(['socketpair'], [eq(0, AF_UNIX)]),
  ];
}

const ARCHITECTURES: Record<string, string> = { x64: 'SCMP_ARCH_X86_64', arm64: 'SCMP_ARCH_AARCH64' };

/** The profile for this host's architecture (only x64 and arm64 are supported hosts). */
export function hearthSeccompProfile(arch: string = process.arch): Seccomp {
  const scmpArch = ARCHITECTURES[arch];
  if (!scmpArch) throw new Error(`no seccomp profile for architecture ${arch}`);
  return {
    defaultAction: 'SCMP_ACT_ERRNO',
    defaultErrnoRet: EPERM,
    architectures: [scmpArch],
    syscalls: [allow([...ALLOWED_SYSCALLS]), ...conditionalRules()],
  };
}
