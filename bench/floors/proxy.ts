import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { BenchClient } from '../client.ts';
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
  // setpriv: the server dies with the bench even if the bench is killed without a chance to stop it.
  const server = spawn('setpriv', ['--pdeathsig', 'SIGTERM', process.execPath, '--import', 'tsx', serverFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let client: BenchClient | undefined;
  const stop = owners.add('proxy floor', async () => {
    client?.close();
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`proxy floor server exited (${code})`)));
      createInterface({ input: server.stdout }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    const http = new BenchClient(`http://127.0.0.1:${port}`);
    client = http;
    const call = async () => {
      const res = await http.request('POST', '/invoke', '{}');
      if (res.status !== 200) throw new Error(`proxy floor answered ${res.status}`);
    };
    return { call, stop };
  } catch (err) {
    await stop();
    throw err;
  }
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
