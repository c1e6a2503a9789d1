import { describe, expect, it } from 'vitest';
import { isLastAttempt } from '../../src/scheduler/retry-decision.ts';

const fails = (code: 'function_error' | 'timeout' | 'not_found' | 'invalid_request' | 'internal') => ({ ok: false, error: { code, message: 'x' } });

describe('retry decision', () => {
  it('ends the invocation on success, whatever attempts are left', () => {
    expect(isLastAttempt({ ok: true }, { trigger: 'async', attempt: 1, maxAttempts: 3 })).toBe(true);
  });

  it('retries a failed async or scheduled attempt while attempts are left', () => {
    expect(isLastAttempt(fails('function_error'), { trigger: 'async', attempt: 1, maxAttempts: 3 })).toBe(false);
    expect(isLastAttempt(fails('timeout'), { trigger: 'schedule', attempt: 2, maxAttempts: 3 })).toBe(false);
    expect(isLastAttempt(fails('internal'), { trigger: 'async', attempt: 1, maxAttempts: 2 })).toBe(false);
  });

  it('stops at the last attempt', () => {
    expect(isLastAttempt(fails('function_error'), { trigger: 'async', attempt: 3, maxAttempts: 3 })).toBe(true);
    expect(isLastAttempt(fails('function_error'), { trigger: 'async', attempt: 1, maxAttempts: 1 })).toBe(true);
  });

  it('never retries a sync invocation: its caller has the answer already', () => {
    expect(isLastAttempt(fails('function_error'), { trigger: 'sync', attempt: 1, maxAttempts: 3 })).toBe(true);
  });

  it.each(['not_found', 'invalid_request'] as const)('does not retry %s, which a retry cannot fix', (code) => {
    expect(isLastAttempt(fails(code), { trigger: 'async', attempt: 1, maxAttempts: 3 })).toBe(true);
  });

  it('retries a failure that carries no error code', () => {
    expect(isLastAttempt({ ok: false }, { trigger: 'async', attempt: 1, maxAttempts: 3 })).toBe(false);
  });
});
