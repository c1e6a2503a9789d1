/**
 * Plays a Hearth that crashes in the middle of storing a blob: streams megabytes into the
 * content store, says "half" on stdout halfway, then keeps writing slowly until the test kills it.
 * Run with `node --import tsx`.
 */
import { ContentStore } from '../../src/image/store/content-store.ts';

const [blobsDir, tmpDir] = process.argv.slice(2);
const store = new ContentStore(blobsDir!, tmpDir!);
async function* slow(): AsyncGenerator<Uint8Array> {
  for (let i = 0; ; i++) {
    yield Buffer.alloc(1 << 20, i);
    if (i === 8) process.stdout.write('half\n');
    if (i >= 8) await new Promise((r) => setTimeout(r, 50));
  }
}
await store.ingest(slow());
