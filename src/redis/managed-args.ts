/** How the managed redis-server trades durability for speed, and how big it may grow. */
export interface ManagedRedisConfig {
  /** `always`: an accepted invocation is on disk before it is acknowledged; `everysec`: up to ~1 s can be lost on a crash. */
  fsync: 'always' | 'everysec';
  /** Redis `maxmemory` (e.g. `256mb`; `0` for none). With noeviction, writes beyond it are refused, reads keep working. */
  maxmemory: string;
}

/** The command line of the managed redis-server. */
export function managedRedisArgs(dir: string, socketPath: string, config: ManagedRedisConfig): string[] {
  return [
    '--port', '0',
    '--unixsocket', socketPath,
    '--unixsocketperm', '700',
    '--dir', dir,
    '--appendonly', 'yes',
    '--appendfsync', config.fsync,
    '--maxmemory', config.maxmemory,
    '--maxmemory-policy', 'noeviction',
    '--save', '',
    '--daemonize', 'no',
    '--loglevel', 'warning',
  ];
}
