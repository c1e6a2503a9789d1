/**
 * The proxy floor's server process: a plain node:http server that hands each request body to an
 * already running worker process over a pipe (newline-delimited JSON, replies matched by id) and
 * answers with the worker's reply. No queue, no container, no record: the least any design with a
 * separate worker process can do. Prints `{"port": n}` once listening on a free loopback port.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const workerFile = fileURLToPath(new URL('./proxy-worker.ts', import.meta.url));
const worker = spawn(process.execPath, ['--import', 'tsx', workerFile], { stdio: ['pipe', 'pipe', 'inherit'] });
worker.once('exit', () => process.exit(1));

const waiting = new Map<number, http.ServerResponse>();
let lastId = 0;

createInterface({ input: worker.stdout }).on('line', (line) => {
  const { id, result } = JSON.parse(line) as { id: number; result: unknown };
  const res = waiting.get(id);
  if (!res) return;
  waiting.delete(id);
  const body = JSON.stringify(result);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const id = ++lastId;
    waiting.set(id, res);
    const text = Buffer.concat(chunks).toString('utf8');
    worker.stdin.write(JSON.stringify({ id, event: text === '' ? null : (JSON.parse(text) as unknown) }) + '\n');
  });
});
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});

// The worker's stdin closes with this process, which ends it.
process.on('SIGTERM', () => process.exit(0));
