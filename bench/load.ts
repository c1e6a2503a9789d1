/**
 * The bench's HTTP callers, run in a child process of their own (as real callers are): the
 * server's event loop then does only the server's work. Usage (from run.ts, via runLoad):
 * `node --import tsx bench/load.ts <url> <path> latency <n> <warmup>` or `… throughput <callers> <ms>`.
 * Prints one JSON line: `{"times": [...]}` or `{"perSecond": n}`.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { BenchClient } from './client.ts';
import { throughput, timeEach } from './stats.ts';

export type LoadResult = { times: number[] } | { perSecond: number };

/** Runs this file as a child process and returns what it printed. */
export function runLoad(args: string[]): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString()));
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`load generator exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').pop()!) as LoadResult);
    });
  });
}

async function main(): Promise<void> {
  const [url, path, mode, a, b] = process.argv.slice(2);
  const client = new BenchClient(url!);
  const call = async () => {
    const res = await client.request('POST', path!, '{}');
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${res.text}`);
  };
  try {
    if (mode === 'latency') console.log(JSON.stringify({ times: await timeEach(Number(a), call, Number(b)) }));
    else console.log(JSON.stringify({ perSecond: await throughput(Number(a), Number(b), call) }));
  } finally {
    client.close();
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
