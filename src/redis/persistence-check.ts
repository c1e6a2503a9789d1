import type { Redis } from 'ioredis';

/** What losing Redis could cost, from its `CONFIG GET` answers (a pure function: unit-tested). */
export function persistenceWarnings(config: Record<string, string | undefined>): string[] {
  const warnings: string[] = [];
  if (config.appendonly !== 'yes') {
    const snapshots = config.save ? ` (RDB snapshots "${config.save}" keep only what existed at the last one)` : '';
    warnings.push(`Redis runs with appendonly=${config.appendonly ?? 'unknown'}: accepted invocations are lost if it restarts${snapshots}; set appendonly yes`);
  } else if (config.appendfsync !== 'always') {
    warnings.push(`Redis runs with appendfsync=${config.appendfsync ?? 'unknown'}: up to ~1 s of accepted invocations can be lost if its host crashes; appendfsync always closes that window`);
  }
  const policy = config['maxmemory-policy'];
  if (policy !== undefined && policy !== 'noeviction') {
    warnings.push(`Redis runs with maxmemory-policy=${policy}: at its memory limit it evicts keys, which silently drops queued invocations; use noeviction`);
  }
  return warnings;
}

/** Reads the server's persistence settings; a server that forbids CONFIG gets one warning saying so. */
export async function checkPersistence(redis: Redis): Promise<string[]> {
  try {
    const config: Record<string, string> = {};
    for (const key of ['appendonly', 'appendfsync', 'save', 'maxmemory-policy']) {
      const pair = (await redis.call('CONFIG', 'GET', key)) as string[];
      if (pair.length >= 2) config[pair[0]!] = pair[1]!;
    }
    return persistenceWarnings(config);
  } catch (err) {
    return [`could not read Redis's persistence settings (${(err as Error).message}): make sure it runs with appendonly yes, appendfsync always and maxmemory-policy noeviction`];
  }
}
