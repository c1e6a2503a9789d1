/**
 * Plays a Hearth that is about to crash: starts a Runtime, creates one container and reports
 * where it lives on stdout, then idles until the test kills it. Run with `node --import tsx`.
 */
import { Runtime } from '../../src/runtime/index.ts';

const [stateDir, instance, layers] = process.argv.slice(2);
const runtime = new Runtime({ stateDir, instance });
await runtime.start();
const c = await runtime.createContainer({
  id: 'orphan',
  layerDirs: JSON.parse(layers) as string[],
  memoryMb: 128,
  env: {},
  hostname: 'orphan',
  functionName: 'orphan',
  version: 1,
});
const out = await c.invoke({ invocationId: 'x', event: { action: 'count' }, deadline: Date.now() + 5000 });
process.stdout.write(JSON.stringify({ id: c.id, ok: out.ok }) + '\n');
setInterval(() => {}, 1 << 30);
