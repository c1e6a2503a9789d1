/**
 * OCI runtime spec generation: a hardened default plus a list of small options.
 * `functionSpecOpts` is the list that describes a function container; later hardening
 * (seccomp allow-list, user namespace + id maps) slots in as more entries in that list.
 */
import { cpus } from 'node:os';
import { defaultSpec, thermalThrottlePaths } from './defaults.ts';
import {
  withRootPath,
  withCgroupsPath,
  withCpus,
  withEnv,
  withHostname,
  withMaskedPaths,
  withMemoryLimit,
  withPidsLimit,
  withProcessArgs,
  withTmpfs,
} from './options.ts';
import { withNetworkNamespace } from './network.ts';
import { hearthSeccompProfile } from './seccomp.ts';
import type { Seccomp, Spec, SpecOpt } from './types.ts';
import { withUserNamespace, type UserNamespaceRange } from './userns.ts';

export * from './options.ts';
export { defaultSpec, DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS, FUNCTION_GID, FUNCTION_UID, thermalThrottlePaths } from './defaults.ts';
export type * from './types.ts';
export * from './seccomp.ts';
export * from './userns.ts';
export * from './network.ts';
export * from './resolv-conf.ts';

/** Installs a seccomp profile (a copy: the spec is serialised later and must not share state). */
export function withSeccomp(profile: Seccomp): SpecOpt {
  return function seccompOpt(spec) {
    spec.linux.seccomp = structuredClone(profile);
  };
}

/** Applies options, in order, to a fresh copy of the hardened default. */
export function buildSpec(opts: SpecOpt[]): Spec {
  const spec = defaultSpec();
  for (const opt of opts) opt(spec);
  return spec;
}

/** Paths of the image contract (what the image module puts in every rootfs). */
export const TINI_PATH = '/usr/bin/tini';
export const NODE_PATH = '/usr/bin/node';
/** The agent, CommonJS (node starts it without its ES module loader). */
export const AGENT_PATH = '/hearth/agent.cjs';
/** Where base layers built before AGENT_PATH hold it (an ES module). */
export const LEGACY_AGENT_PATH = '/hearth/agent.mjs';
/** Run by node before the agent (images built since it exists): keeps node's code cache valid despite the heap flag. */
export const NODE_PRELOAD_PATH = '/hearth/code-cache.cjs';

export interface FunctionSpecParams {
  hostname: string;
  memoryMb: number;
  cpus: number;
  pidsLimit: number;
  tmpfsMb: number;
  cgroupsPath: string;
  env: Record<string, string>;
  functionName: string;
  version: number;
  cpuCount?: number;
  /** Host id range container root maps to; omitted only by tests of the spec without one. */
  userNamespace?: UserNamespaceRange;
  /** The image ships NODE_PRELOAD_PATH (older base layers do not). */
  nodePreload?: boolean;
  /** The agent the image ships (default AGENT_PATH; LEGACY_AGENT_PATH in older base layers). */
  agentPath?: string;
  /** Arguments for the agent (after its path). */
  agentArgs?: string[];
  /** Absolute rootfs path (default: `rootfs` in the bundle). */
  rootfsPath?: string;
  /** A prepared network namespace (bridge networking); omitted: a fresh one with only loopback. */
  networkNamespacePath?: string;
}

let cpuCount: number | undefined;
/** The host's CPUs, read once: os.cpus() parses /proc/cpuinfo and /sys on every call (~0.6 ms a container start, cold). */
function hostCpuCount(): number {
  return (cpuCount ??= cpus().length);
}

/** V8's old space gets ~75% of the cgroup limit so a heap blow-up is a clean V8 OOM, not a kill. */
export function maxOldSpaceMb(memoryMb: number): number {
  return Math.max(16, Math.floor(memoryMb * 0.75));
}

/**
 * The container's description: tini as pid 1 (reaps orphans, forwards signals) running node with
 * the agent. The user env sits between the defaults and HEARTH_*, so users can override NODE_ENV
 * but not what the agent relies on.
 */
export function functionSpecOpts(p: FunctionSpecParams): SpecOpt[] {
  return [
    withHostname(p.hostname),
    withProcessArgs(
      TINI_PATH, '--', NODE_PATH, `--max-old-space-size=${maxOldSpaceMb(p.memoryMb)}`,
      ...(p.nodePreload ? ['--require', NODE_PRELOAD_PATH] : []),
      p.agentPath ?? AGENT_PATH,
      ...(p.agentArgs ?? []),
    ),
    withEnv({ PATH: '/usr/local/bin:/usr/bin:/bin', NODE_ENV: 'production', HOME: '/tmp' }),
    withEnv(p.env),
    withEnv({ HEARTH_FUNCTION: p.functionName, HEARTH_VERSION: String(p.version), HEARTH_MEMORY_MB: String(p.memoryMb) }),
    withMemoryLimit(p.memoryMb),
    withCpus(p.cpus),
    withPidsLimit(p.pidsLimit),
    withTmpfs(p.tmpfsMb),
    withCgroupsPath(p.cgroupsPath),
    withMaskedPaths(thermalThrottlePaths(p.cpuCount ?? hostCpuCount())),
    withSeccomp(hearthSeccompProfile()),
    ...(p.rootfsPath ? [withRootPath(p.rootfsPath)] : []),
    ...(p.userNamespace ? [withUserNamespace(p.userNamespace)] : []),
    ...(p.networkNamespacePath ? [withNetworkNamespace(p.networkNamespacePath)] : []),
  ];
}

export function functionSpec(p: FunctionSpecParams, extra: SpecOpt[] = []): Spec {
  return buildSpec([...functionSpecOpts(p), ...extra]);
}
