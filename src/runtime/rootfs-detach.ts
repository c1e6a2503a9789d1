import type { CommandRunner } from './command.ts';

/** Rootfs mounts to detach are gathered this long, then go in one `umount -l`. */
const BATCH_MS = 50;

/**
 * Detaches a started container's rootfs from the host's mount table. Every new container's mount
 * namespace starts as a copy of the host's (which runc then tears down after pivot_root), so each
 * mount the host keeps makes every later start slower: measured here, 300 extra mounts added
 * ~90 ms to a container start. Once runc has pivoted into it, the container holds its own copy of
 * its root; the host's is only clean-up work. A lazy unmount (MNT_DETACH) takes it off the host
 * table; the overlay itself lives on until the container's namespace goes. Batched, because
 * spawning `umount` from a large Node process costs more than unmounting.
 *
 * Clean-up stays as it was: removing a container unmounts its rootfs if it is still a mount point.
 * `run` runs the umount (the runtime's process spawner).
 */
export class RootfsDetacher {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<void>>();

  constructor(
    private readonly run: CommandRunner,
    private readonly warn: (message: string) => void,
  ) {}

  detach(rootfsPath: string): void {
    this.pending.push(rootfsPath);
    this.timer ??= setTimeout(() => this.flush(), BATCH_MS);
  }

  /** Detaches what is pending now, and waits until every detach so far has ended. */
  async close(): Promise<void> {
    this.flush();
    await Promise.all(this.running);
  }

  private flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const paths = this.pending;
    if (paths.length === 0) return;
    this.pending = [];
    const detaching: Promise<void> = this.run('umount', ['-l', ...paths])
      .then((r) => {
        // A container that died meanwhile had its rootfs unmounted already: umount then names it.
        if (r.code !== 0 && !/not mounted|no mount point|not found|no such file/i.test(r.stderr)) {
          this.warn(`detaching ${paths.length} container rootfs mounts: ${r.stderr.trim()}`);
        }
      })
      .catch((err: unknown) => this.warn(`detaching container rootfs mounts: ${(err as Error).message}`))
      .finally(() => this.running.delete(detaching));
    this.running.add(detaching);
  }
}
