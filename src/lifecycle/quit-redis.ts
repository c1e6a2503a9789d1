import type { Redis } from 'ioredis';
import { settlesWithin } from './bounded.ts';

/** What QUIT may take before the connection is simply dropped. */
export const REDIS_QUIT_MS = 1_000;

/**
 * Closes a client politely when Redis answers, at once when it does not: QUIT waits for the
 * replies still due, but against a dead server ioredis would retry it forever.
 */
export async function quitRedis(client: Redis, ms = REDIS_QUIT_MS): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready' || !(await settlesWithin(client.quit(), ms))) client.disconnect();
}
