/**
 * The async floor with HTTP, server process: a plain node:http server in front of BullMQ, as any
 * design that accepts async work over HTTP needs. `POST /jobs` adds the body as a job and answers
 * 202 with its id once it is in Redis; `GET /jobs/:id` answers its state; one worker with
 * concurrency 8 runs no-ops in the same process (as Hearth's server both accepts and runs).
 * No record, no container. Prints `{"port": n}` once listening on a free loopback port.
 * Usage: bullmq-http-server.ts <redis url>
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Queue, Worker } from 'bullmq';
import { createRedis } from '../../src/redis/index.ts';

const url = process.argv[2];
if (!url) throw new Error('usage: bullmq-http-server.ts <redis url>');
const queue = new Queue('floor-http', { connection: createRedis(url) });
const worker = new Worker('floor-http', async () => null, { connection: createRedis(url), concurrency: 8 });
const keep = { removeOnComplete: { age: 3600 }, removeOnFail: { age: 3600 } };

function answer(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const handled = req.method === 'POST'
      ? queue.add('noop', JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') as unknown, keep).then((job) => answer(res, 202, { id: job.id }))
      : queue.getJobState(decodeURIComponent((req.url ?? '').slice('/jobs/'.length))).then((state) => answer(res, 200, { state }));
    handled.catch((err: Error) => answer(res, 500, { error: err.message }));
  });
});
await worker.waitUntilReady();
server.listen(0, '127.0.0.1', () => {
  console.log(JSON.stringify({ port: (server.address() as AddressInfo).port }));
});
process.on('SIGTERM', () => process.exit(0));
