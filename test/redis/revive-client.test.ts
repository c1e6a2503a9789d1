import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedis } from '../../src/redis/index.ts';

/** A sentinel that answers every master lookup after `delayMs` with a port nobody listens on. */
async function slowSentinel(delayMs: number): Promise<{ port: number; lookups: () => number; close(): Promise<void> }> {
  let lookups = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.on('data', (chunk) => {
      // One answer per command (a chunk may hold several): RESP commands are arrays of bulk strings.
      for (const command of chunk.toString().split(/(?=\*\d+\r\n\$)/)) {
        const lookup = /get-master-addr-by-name/i.test(command);
        if (lookup) lookups++;
        setTimeout(() => {
          if (!socket.destroyed) socket.write(lookup ? '*2\r\n$9\r\n127.0.0.1\r\n$1\r\n1\r\n' : '+OK\r\n');
        }, delayMs);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    lookups: () => lookups,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

const until = async (check: () => boolean, ms: number) => {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  return check();
};

let cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanup) await c();
  cleanup = [];
});

describe('a Sentinel client ended by a failed master lookup', () => {
  it('connects again, unless its owner closed it', async () => {
    const sentinel = await slowSentinel(300);
    cleanup.push(() => sentinel.close());
    const client: Redis = createRedis(`redis-sentinel://127.0.0.1:${sentinel.port}/m`, {}, 'revive-test');
    cleanup.push(async () => client.disconnect());
    expect(await until(() => sentinel.lookups() === 1, 2000)).toBe(true);
    // What ioredis' failover detector (and BullMQ's watchdog) do to a client mid-lookup: without
    // the revival ioredis parks it in 'end' for good and never asks again.
    (client as unknown as { connector: { disconnect(): void } }).connector.disconnect();
    expect(await until(() => sentinel.lookups() >= 2, 3000)).toBe(true);

    client.disconnect();
    await until(() => client.status === 'end', 1000);
    const after = sentinel.lookups();
    await new Promise((r) => setTimeout(r, 800));
    expect(client.status).toBe('end');
    expect(sentinel.lookups()).toBe(after);
  });
});
