import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { ReplicaAck } from '../../src/redis/index.ts';
import { HearthError } from '../../src/errors/index.ts';

/** A connection whose PUBLISH+WAIT rounds the test answers by hand, in order. */
function fakeConnection() {
  const rounds: { replicas: number; answer(acked: number | Error): void }[] = [];
  const connection = {
    pipeline() {
      let replicas = 0;
      const p = {
        publish: () => p,
        wait: (n: number) => { replicas = n; return p; },
        exec: () => new Promise((resolve) => {
          rounds.push({
            replicas,
            answer: (acked) => resolve(acked instanceof Error ? [[null, 0], [acked, null]] : [[null, 0], [null, acked]]),
          });
        }),
      };
      return p;
    },
  };
  return { connection: connection as unknown as Redis, rounds };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('waiting for replicas', () => {
  it('resolves when enough replicas confirm, and answers 503 unavailable when they do not', async () => {
    const { connection, rounds } = fakeConnection();
    const ack = new ReplicaAck(connection, { replicas: 2, timeoutMs: 100 });
    const ok = ack.confirm();
    await tick();
    rounds[0]!.answer(2);
    await expect(ok).resolves.toBeUndefined();

    const short = ack.confirm();
    await tick();
    expect(rounds[1]!.replicas).toBe(2);
    rounds[1]!.answer(1);
    const err = await short.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HearthError);
    expect(err).toMatchObject({ code: 'unavailable', status: 503, retryAfterSeconds: 2 });
    expect((err as Error).message).toMatch(/only 1 of 2 .* may still run/);

    const named = ack.confirm('inv-1');
    await tick();
    rounds[2]!.answer(0);
    await expect(named).rejects.toMatchObject({ code: 'unavailable', invocationId: 'inv-1', message: expect.stringMatching(/\(invocation inv-1\)$/) });

    const broken = ack.confirm();
    await tick();
    rounds[3]!.answer(new Error('Connection is closed.'));
    await expect(broken).rejects.toMatchObject({ code: 'unavailable' });
  });

  it('shares one round among callers that arrive while another is in flight, never the one already started', async () => {
    const { connection, rounds } = fakeConnection();
    const ack = new ReplicaAck(connection, { replicas: 1, timeoutMs: 100 });
    const first = ack.confirm();
    await tick();
    expect(rounds).toHaveLength(1);
    // These wrote after round 1's marker was sent: round 1 cannot vouch for them.
    const later = [ack.confirm(), ack.confirm(), ack.confirm()];
    await tick();
    expect(rounds).toHaveLength(1);
    let laterDone = false;
    void Promise.all(later).then(() => { laterDone = true; });
    rounds[0]!.answer(1);
    await first;
    await tick();
    expect(laterDone).toBe(false);
    expect(rounds).toHaveLength(2);
    rounds[1]!.answer(1);
    await Promise.all(later);
    expect(rounds).toHaveLength(2);
  });

  it('starts the next round after a failed one', async () => {
    const { connection, rounds } = fakeConnection();
    const ack = new ReplicaAck(connection, { replicas: 1, timeoutMs: 100 });
    const failed = ack.confirm();
    await tick();
    const next = ack.confirm();
    rounds[0]!.answer(0);
    await expect(failed).rejects.toMatchObject({ code: 'unavailable' });
    await tick();
    rounds[1]!.answer(1);
    await expect(next).resolves.toBeUndefined();
  });
});
