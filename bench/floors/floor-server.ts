import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { BenchClient } from '../client.ts';
import type { Owners } from '../owners.ts';

/** A floor's server process, listening, with a keep-alive client to it; `stop` ends both. */
export interface FloorServer {
  client: BenchClient;
  stop: () => Promise<void>;
}

/**
 * Starts `file` (a TypeScript server that prints `{"port": n}` once listening on loopback) with
 * `args`, owned by `owners` under `name`.
 */
export async function startFloorServer(owners: Owners, name: string, file: string, args: string[] = []): Promise<FloorServer> {
  // setpriv: the server dies with the bench even if the bench is killed without a chance to stop it.
  const server = spawn('setpriv', ['--pdeathsig', 'SIGTERM', process.execPath, '--import', 'tsx', file, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
    detached: true,
  });
  const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
  let client: BenchClient | undefined;
  const stop = owners.add(name, async () => {
    client?.close();
    if (server.exitCode === null && server.signalCode === null) server.kill('SIGTERM');
    await exited;
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.once('exit', (code) => reject(new Error(`${name} server exited (${code})`)));
      createInterface({ input: server.stdout }).once('line', (line) => resolve((JSON.parse(line) as { port: number }).port));
    });
    client = new BenchClient(`http://127.0.0.1:${port}`);
    return { client, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
