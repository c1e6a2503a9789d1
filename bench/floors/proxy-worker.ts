/**
 * The proxy floor's worker process: reads `{"id","event"}` lines on stdin, runs a no-op handler,
 * writes `{"id","result"}` lines on stdout. Ends when stdin closes (its server is gone).
 */
import { createInterface } from 'node:readline';

const handler = async (_event: unknown): Promise<unknown> => null;

const lines = createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const { id, event } = JSON.parse(line) as { id: number; event: unknown };
  void handler(event).then((result) => process.stdout.write(JSON.stringify({ id, result }) + '\n'));
});
lines.on('close', () => process.exit(0));
