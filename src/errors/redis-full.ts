import { HearthError } from './hearth-error.ts';

/**
 * Whether Redis refused a write because it reached `maxmemory` (policy noeviction): the reply is
 * "OOM command not allowed when used memory > 'maxmemory'", directly or, inside MULTI, as one of
 * the errors behind an EXECABORT. Matched on the reply text: that is Redis's contract, and the
 * errors module stays free of a client library.
 */
export function isRedisFull(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  if (/^OOM\b/.test(err.message)) return true;
  const previous = (err as { previousErrors?: unknown }).previousErrors;
  return Array.isArray(previous) && previous.some((e) => e instanceof Error && /^OOM\b/.test(e.message));
}

/** What a caller gets when Redis is full: new work is refused, nothing accepted before is touched. */
export function redisFullError(): HearthError {
  return new HearthError(
    'unavailable',
    'Hearth cannot accept new work: its Redis reached maxmemory. Accepted invocations still run and reads still work; try again once records expire or the limit is raised.',
    { retryAfterSeconds: 5 },
  );
}
