/**
 * User namespaces: container root maps to an unprivileged host uid/gid range, so even a process
 * that became root inside (or escaped the mount namespace) holds no privilege over host files or
 * other containers. Each container gets its own range: the function's uid 1000 is a host uid no
 * other container shares, which also makes RLIMIT_NPROC a per-container limit.
 *
 * runc 1.1 has no id-mapped mounts, so the rootfs is not remapped: the image layers stay owned by
 * host root and show up as the overflow uid (nobody) inside. That works because the layers are
 * world-readable and the rootfs is read-only anyway; the writable mounts (tmpfs /tmp, /run,
 * /dev/shm) are created inside the namespace and so belong to the container.
 */
import type { IdMapping, SpecOpt } from './types.ts';

export interface UserNamespaceRange {
  /** Host uid that container uid 0 maps to. */
  hostUid: number;
  /** Host gid that container gid 0 maps to. */
  hostGid: number;
  /** How many ids are mapped (container ids 0 … size-1). */
  size: number;
}

const MAX_ID = 2 ** 32 - 2;

export function withUserNamespace(range: UserNamespaceRange): SpecOpt {
  for (const [name, v] of [['hostUid', range.hostUid], ['hostGid', range.hostGid]] as const) {
    // Mapping container root to host root (or anything below the first regular uid) would make it a no-op.
    if (!Number.isInteger(v) || v < 65536 || v + range.size - 1 > MAX_ID) throw new RangeError(`${name} ${v} is not an unprivileged id range`);
  }
  if (!Number.isInteger(range.size) || range.size < 1) throw new RangeError(`invalid id range size ${range.size}`);
  return function userNamespaceOpt(spec) {
    if (!spec.linux.namespaces.some((n) => n.type === 'user')) spec.linux.namespaces.push({ type: 'user' });
    const uid: IdMapping = { containerID: 0, hostID: range.hostUid, size: range.size };
    const gid: IdMapping = { containerID: 0, hostID: range.hostGid, size: range.size };
    spec.linux.uidMappings = [uid];
    spec.linux.gidMappings = [gid];
  };
}

/**
 * The host id a container id maps to: what host-side files meant for the function (e.g. secret
 * files bind-mounted in) must be chowned to, since "uid 1000" inside is not host uid 1000.
 */
export function mappedHostIds(range: UserNamespaceRange, uid: number, gid: number): { uid: number; gid: number } {
  if (uid < 0 || uid >= range.size || gid < 0 || gid >= range.size) throw new RangeError(`ids ${uid}:${gid} are outside the mapped range`);
  return { uid: range.hostUid + uid, gid: range.hostGid + gid };
}

/** Ids per container: 0…65535 inside, as distributions expect (nobody is 65534). */
export const USERNS_RANGE_SIZE = 65536;
/** First host id Hearth hands out: far above the ids distributions and /etc/subuid use. */
export const USERNS_BASE = 1_000_000_000;
const SLOTS = 32_768;

/**
 * Hands out a distinct host id range per live container. Each allocator starts at a random slot,
 * so two Hearth servers on one host rarely share a range; if they do, the containers still cannot
 * see each other (separate pid namespaces, read-only rootfs), they only share RLIMIT_NPROC.
 */
export class UserNamespaceRanges {
  private readonly inUse = new Set<number>();
  private next: number;

  constructor(
    private readonly base = USERNS_BASE,
    private readonly slots = SLOTS,
    start = Math.floor(Math.random() * slots),
  ) {
    this.next = start % slots;
  }

  allocate(): UserNamespaceRange & { slot: number } {
    if (this.inUse.size >= this.slots) throw new Error('no free user namespace id range');
    while (this.inUse.has(this.next)) this.next = (this.next + 1) % this.slots;
    const slot = this.next;
    this.inUse.add(slot);
    this.next = (slot + 1) % this.slots;
    const hostId = this.base + slot * USERNS_RANGE_SIZE;
    return { slot, hostUid: hostId, hostGid: hostId, size: USERNS_RANGE_SIZE };
  }

  release(slot: number): void {
    this.inUse.delete(slot);
  }
}
