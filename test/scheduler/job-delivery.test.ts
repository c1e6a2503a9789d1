import { describe, expect, it } from 'vitest';
import { deliveryOf, invocationIdOf, keepsResult, type DeliveredJob } from '../../src/scheduler/job-delivery.ts';

function job(over: Partial<DeliveredJob> & { data: DeliveredJob['data'] }): DeliveredJob {
  return { id: 'j', timestamp: 5_000, opts: {}, attemptsStarted: 0, attemptsMade: 0, ...over };
}

const tick = 1_700_000_000_000;
const scheduled = job({
  opts: { prevMillis: tick, attempts: 3 } as DeliveredJob['opts'],
  data: { function: 'f-1', scheduleId: 's_1', event: { hello: 1 }, trigger: 'schedule' } as unknown as DeliveredJob['data'],
});

describe('job delivery', () => {
  it('keeps the producer-given id and enqueue time', () => {
    const d = deliveryOf(job({ data: { invocationId: 'given', function: 'f', event: null, enqueuedAt: 1 }, attemptsStarted: 1 }));
    expect(d.job).toMatchObject({ invocationId: 'given', enqueuedAt: 1 });
    expect(d).toMatchObject({ trigger: 'async', attempt: 1, maxAttempts: 1 });
  });

  it('derives id and enqueue time of a schedule tick from the tick', () => {
    expect(invocationIdOf(scheduled)).toBe('sched.f-1.s_1.1700000000000');
    const d = deliveryOf(scheduled);
    expect(d.job).toMatchObject({ invocationId: 'sched.f-1.s_1.1700000000000', enqueuedAt: tick, event: { hello: 1 } });
    expect(d).toMatchObject({ trigger: 'schedule', maxAttempts: 3 });
  });

  it('calls a job with a reply channel sync, and counts attempts from BullMQ\'s counters', () => {
    const sync = job({ data: { invocationId: 'i', function: 'f', event: null, enqueuedAt: 1, replyTo: 'hearth:reply:x' }, attemptsStarted: 2, attemptsMade: 1 });
    expect(deliveryOf(sync)).toMatchObject({ trigger: 'sync', attempt: 2 });
    // Jobs from before BullMQ counted started attempts: the next attempt after those made.
    expect(deliveryOf({ ...sync, attemptsStarted: 0, attemptsMade: 1 }).attempt).toBe(2);
  });

  it('does not count a redelivery after a lost worker as an attempt, and counts it as a redelivery', () => {
    const data = { invocationId: 'i', function: 'f', event: null, enqueuedAt: 1 };
    // Taken twice (the first node died), never ended: still the first of one attempt.
    const redelivered = job({ data, opts: { attempts: 1 }, attemptsStarted: 2, attemptsMade: 0, stalledCounter: 1 });
    expect(deliveryOf(redelivered)).toMatchObject({ attempt: 1, maxAttempts: 1, redeliveries: 1 });
    // A retry after a failure is the next attempt; earlier redeliveries stay counted.
    const retried = job({ data, opts: { attempts: 3 }, attemptsStarted: 3, attemptsMade: 1, stalledCounter: 1 });
    expect(deliveryOf(retried)).toMatchObject({ attempt: 2, maxAttempts: 3, redeliveries: 1 });
    expect(deliveryOf(job({ data })).redeliveries).toBe(0);
  });

  it('keeps the result in the record for async runs, and for sync runs only with an Idempotency-Key', () => {
    const data = { invocationId: 'i', function: 'f', event: null, enqueuedAt: 1 };
    expect(keepsResult(deliveryOf(job({ data })))).toBe(true);
    expect(keepsResult(deliveryOf(job({ data: { ...data, replyTo: 'c' } })))).toBe(false);
    expect(keepsResult(deliveryOf(job({ data: { ...data, replyTo: 'c', keepResult: true } })))).toBe(true);
  });
});
