import { fileURLToPath } from 'node:url';
import { startFloorServer } from './floor-server.ts';
import { warmRounds, type WarmSide } from '../load.ts';

import type { Owners } from '../owners.ts';
import { median } from '../stats.ts';

export interface ProxyFloor {
  /** Sequential keep-alive POST, ms. */
  p50Ms: number;
  /** Calls per second with 64 keep-alive connections. */
  perSecond: number;
}

const serverFile = fileURLToPath(new URL('./proxy-server.ts', import.meta.url));

/** A running proxy floor: `call` is one keep-alive POST through it. */
export interface ProxyServer {
  call: () => Promise<void>;
  stop: () => Promise<void>;
}

/** Starts the proxy server (which starts its worker); `stop` ends both. */
export async function startProxyFloor(owners: Owners): Promise<ProxyServer> {
  const { client, stop } = await startFloorServer(owners, 'proxy floor', serverFile);
  const call = async () => {
    const res = await client.request('POST', '/invoke', '{}');
    if (res.status !== 200) throw new Error(`proxy floor answered ${res.status}`);
  };
  return { call, stop };
}

/** The proxy floor alone, measured as Hearth's warm path is (see measureWarm, which interleaves the two). */
export async function measureProxyFloor(owners: Owners, o: { calls: number; throughputMs: number }): Promise<ProxyFloor> {
  const { call, stop } = await startProxyFloor(owners);
  try {
    const [floor] = (await warmRounds([call], o)) as [WarmSide];
    if (floor.errors > 0) throw new Error(`proxy floor: ${floor.errors} failed calls`);
    return { p50Ms: median(floor.times), perSecond: floor.perSecond };
  } finally {
    await stop();
  }
}
