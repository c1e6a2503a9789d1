/** Network-related spec options. */
import type { SpecOpt } from './types.ts';

/**
 * Joins an existing network namespace (one the CNI plugins configured) instead of a fresh one.
 * With a user namespace, sysfs can only be mounted by the owner of the netns, which is the host
 * here: /sys becomes an empty read-only tmpfs instead (nothing a function needs lives there;
 * Docker's rootless mode binds the host's /sys, which would show the host's devices).
 */
export function withNetworkNamespace(path: string): SpecOpt {
  if (!path.startsWith('/')) throw new RangeError('network namespace path must be absolute');
  return function networkNamespaceOpt(spec) {
    const ns = spec.linux.namespaces.find((n) => n.type === 'network');
    if (ns) ns.path = path;
    else spec.linux.namespaces.push({ type: 'network', path });
    const i = spec.mounts.findIndex((m) => m.destination === '/sys');
    if (i !== -1) spec.mounts[i] = { destination: '/sys', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'noexec', 'nodev', 'ro', 'size=4k'] };
  };
}
