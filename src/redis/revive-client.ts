import type { Redis } from 'ioredis';

/**
 * Undoes an end nobody asked for. ioredis ends a Sentinel client for good (status 'end', no more
 * retries) when its connector is disconnected while it is still asking the sentinels for the
 * master: its failover detector does that when a switch is announced during a reconnect, and
 * BullMQ's blocking watchdog does it too (taskforcesh/bullmq#4378). Ends asked for with
 * `disconnect()` or `quit()` are left alone; any other one is followed by a fresh connect.
 */
export function reviveUnexpectedEnd(client: Redis, onRevive: () => void = () => undefined): Redis {
  let closing = false;
  const disconnect = client.disconnect.bind(client);
  client.disconnect = (reconnect = false) => {
    if (!reconnect) closing = true;
    disconnect(reconnect);
  };
  const quit = client.quit.bind(client);
  client.quit = ((...args: Parameters<Redis['quit']>) => {
    closing = true;
    return quit(...args);
  }) as Redis['quit'];
  client.on('end', () => {
    if (closing) return;
    onRevive();
    // Not from inside the 'end' handler: ioredis is still unwinding the failed connect.
    setTimeout(() => {
      if (!closing && client.status === 'end') client.connect().catch(() => undefined);
    }, 100).unref();
  });
  return client;
}
