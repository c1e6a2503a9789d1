import { describe, expect, it } from 'vitest';
import {
  attemptEnded,
  attemptInterrupted,
  attemptFailedWillRetry,
  attemptStarted,
  attemptSucceeded,
  deadLetterRetried,
  invocationFailed,
  isFinished,
  keepsDeadLetters,
  queuedRecord,
  recordToResult,
  workerLost,
  type AttemptOutcome,
  type InvocationRecord,
} from '../../src/scheduler/invocation-record.ts';
import type { InvocationTrigger } from '../../src/scheduler/invocation.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function queued(trigger: InvocationTrigger = 'async', maxAttempts = 3): InvocationRecord {
  return queuedRecord({ id: 'inv-1', function: 'echo', version: null, trigger, maxAttempts, queuedAt: T0 });
}

const success: AttemptOutcome = { version: 4, ok: true, result: { answer: 42 }, coldStart: true, durationMs: 12.6 };
const failure: AttemptOutcome = {
  version: 4,
  ok: false,
  error: { code: 'function_error', message: 'boom' },
  coldStart: false,
  durationMs: 3.2,
};

describe('a new invocation', () => {
  it('is queued with no attempt started and only the optional fields it was given', () => {
    expect(queued()).toEqual({
      id: 'inv-1', function: 'echo', version: null, status: 'queued', trigger: 'async', attempts: 0, maxAttempts: 3, queuedAt: at(0),
    });
    const retry = queuedRecord({
      id: 'inv-2', function: 'echo', version: 2, trigger: 'async', maxAttempts: 1, queuedAt: T0, callbackUrl: 'http://127.0.0.1:9/cb', retryOf: 'inv-1',
    });
    expect(retry).toMatchObject({ version: 2, callbackUrl: 'http://127.0.0.1:9/cb', retryOf: 'inv-1' });
    expect(retry).not.toHaveProperty('scheduleId');
  });
});

describe('an attempt', () => {
  it('marks the record running with its attempt number and start time', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 3, startedAt: T0 + 5 });
    expect(running).toMatchObject({ status: 'running', attempts: 1, maxAttempts: 3, startedAt: at(5), queuedAt: at(0) });
    expect(isFinished(running)).toBe(false);
  });

  it('records a redelivery after a lost node without counting it as an attempt, and the node running it', () => {
    const first = attemptStarted(queued('async', 1), { attempt: 1, maxAttempts: 1, startedAt: T0, node: 'n1' });
    expect(first).not.toHaveProperty('redeliveries');
    const again = attemptStarted(first, { attempt: 1, maxAttempts: 1, startedAt: T0 + 12_000, redeliveries: 1, node: 'n2' });
    expect(again).toMatchObject({ status: 'running', attempts: 1, maxAttempts: 1, redeliveries: 1, node: 'n2', startedAt: at(12_000) });
  });

  it('drops the previous attempt\'s error when a retry starts', () => {
    const first = attemptStarted(queued(), { attempt: 1, maxAttempts: 3, startedAt: T0 + 1 });
    const pending = attemptFailedWillRetry(first, failure);
    expect(pending).toMatchObject({ status: 'queued', error: failure.error });
    const second = attemptStarted(pending, { attempt: 2, maxAttempts: 3, startedAt: T0 + 100 });
    expect(second).not.toHaveProperty('error');
    expect(second).toMatchObject({ status: 'running', attempts: 2, startedAt: at(100) });
  });

  it('that succeeds finishes the record with the version run, rounded duration and the result when kept', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 3, startedAt: T0 + 1 });
    const done = attemptSucceeded(running, success, { keepResult: true, finishedAt: T0 + 20 });
    expect(done).toMatchObject({ status: 'succeeded', version: 4, coldStart: true, durationMs: 13, result: { answer: 42 }, finishedAt: at(20) });
    expect(done).not.toHaveProperty('error');
    expect(isFinished(done)).toBe(true);
    expect(attemptSucceeded(running, success, { keepResult: false, finishedAt: T0 + 20 })).not.toHaveProperty('result');
    expect(attemptSucceeded(running, { ...success, result: undefined }, { keepResult: true, finishedAt: T0 + 20 }).result).toBeNull();
  });

  it('that fails with attempts left goes back to queued, unfinished and not a dead letter', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 3, startedAt: T0 + 1 });
    const pending = attemptEnded(running, failure, { final: false, keepResult: true, finishedAt: T0 + 9 });
    expect(pending).toMatchObject({ status: 'queued', attempts: 1, error: failure.error, durationMs: 3 });
    expect(pending).not.toHaveProperty('finishedAt');
    expect(pending).not.toHaveProperty('deadLetter');
    expect(isFinished(pending)).toBe(false);
  });

  it('that fails without an error of its own is recorded as internal', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    const { error: _none, ...noError } = failure;
    expect(invocationFailed(running, noError, T0 + 1).error).toEqual({ code: 'internal', message: 'invocation failed' });
  });
});

describe('the last failed attempt', () => {
  it.each([
    ['async', true],
    ['schedule', true],
    ['sync', false],
    ['http', false],
  ] as const)('of a %s invocation fails it; dead letter: %s', (trigger, dead) => {
    expect(keepsDeadLetters(trigger)).toBe(dead);
    const running = attemptStarted(queued(trigger, 1), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    const failed = attemptEnded(running, failure, { final: true, keepResult: true, finishedAt: T0 + 7 });
    expect(failed).toMatchObject({ status: 'failed', error: failure.error, finishedAt: at(7) });
    expect(failed.deadLetter === true).toBe(dead);
    expect(failed).not.toHaveProperty('result');
  });
});

describe('a lost worker', () => {
  it('fails a running record as internal, a dead letter for async invocations', () => {
    const running = attemptStarted(queued('async'), { attempt: 2, maxAttempts: 2, startedAt: T0 });
    const lost = workerLost(running, 'job stalled more than allowable limit', T0 + 30);
    expect(lost).toMatchObject({
      status: 'failed',
      attempts: 2,
      finishedAt: at(30),
      deadLetter: true,
      error: { code: 'internal', message: 'the worker running this invocation was lost (job stalled more than allowable limit)' },
    });
    expect(workerLost(attemptStarted(queued('sync'), { attempt: 1, maxAttempts: 1, startedAt: T0 }), 'gone', T0)?.deadLetter).toBe(false);
  });

  it('leaves a record that already finished alone', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    expect(workerLost(attemptSucceeded(running, success, { keepResult: true, finishedAt: T0 + 1 }), 'late', T0 + 2)).toBeUndefined();
    expect(workerLost(invocationFailed(running, failure, T0 + 1), 'late', T0 + 2)).toBeUndefined();
  });
});

describe('retrying a dead letter', () => {
  it('takes it off the dead letters and points at the new invocation', () => {
    const running = attemptStarted(queued('async', 1), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    const dead = invocationFailed(running, failure, T0 + 1);
    const retried = deadLetterRetried(dead, 'inv-9');
    expect(retried).toMatchObject({ status: 'failed', deadLetter: false, retriedAs: 'inv-9', error: failure.error });
  });
});

describe('record to result', () => {
  it('answers a succeeded record with its result', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    const done = attemptSucceeded(running, success, { keepResult: true, finishedAt: T0 + 20 });
    expect(recordToResult(done)).toEqual({
      invocationId: 'inv-1', function: 'echo', version: 4, ok: true, result: { answer: 42 },
      coldStart: true, containerId: null, queuedMs: 0, durationMs: 13, logs: [],
    });
  });

  it('answers null for a succeeded record whose result was not kept', () => {
    const running = attemptStarted(queued('sync'), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    expect(recordToResult(attemptSucceeded(running, success, { keepResult: false, finishedAt: T0 + 1 }))).toMatchObject({ ok: true, result: null });
  });

  it('answers a failed record with its error and no result', () => {
    const running = attemptStarted(queued(), { attempt: 1, maxAttempts: 1, startedAt: T0 });
    const result = recordToResult(invocationFailed(running, failure, T0 + 1));
    expect(result).toMatchObject({ ok: false, error: failure.error, coldStart: false, durationMs: 3 });
    expect(result).not.toHaveProperty('result');
  });

  it('reads absent timings of a record that never ran as zero and warm', () => {
    expect(recordToResult(queued())).toMatchObject({ ok: false, version: null, coldStart: false, durationMs: 0 });
  });
});

describe('an attempt cut short by a stop', () => {
  it('is queued again and its start no longer counts', () => {
    const running = attemptStarted(queued('async', 1), { attempt: 1, maxAttempts: 1, startedAt: T0 + 5 });
    const back = attemptInterrupted(running);
    expect(back.status).toBe('queued');
    expect(back.attempts).toBe(0);
    expect(back.startedAt).toBeUndefined();
    expect(attemptStarted(back, { attempt: 1, maxAttempts: 1, startedAt: T0 + 9 }).attempts).toBe(1);
  });
});
