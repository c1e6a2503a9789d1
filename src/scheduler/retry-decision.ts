import type { ErrorCode } from '../errors/index.ts';
import type { InvocationResult, InvocationTrigger } from './invocation.ts';

/** Errors that a retry cannot fix. */
const FINAL_CODES: ReadonlySet<ErrorCode> = new Set(['not_found', 'invalid_request']);

/**
 * Whether an attempt ends the invocation, or a failure is thrown back to BullMQ to be retried
 * with backoff. A sync caller already has its answer, so its invocation is never retried.
 */
export function isLastAttempt(
  result: Pick<InvocationResult, 'ok' | 'error'>,
  attempt: { trigger: InvocationTrigger; attempt: number; maxAttempts: number },
): boolean {
  if (result.ok || attempt.trigger === 'sync') return true;
  if (attempt.attempt >= attempt.maxAttempts) return true;
  return result.error !== undefined && FINAL_CODES.has(result.error.code);
}
