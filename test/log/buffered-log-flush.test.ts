import { rm } from 'node:fs/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { prepareDataDir, startChildHearth, type ChildHearth } from '../helpers/child-hearth.ts';
import { canRunContainers } from '../helpers/host.ts';

let h: ChildHearth | undefined;
let dataDir: string | undefined;
afterEach(async () => {
  await h?.kill();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
  h = dataDir = undefined;
});

const jsonLines = (out: string) => out.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);

describe.skipIf(!canRunContainers)('server log (buffered stdout)', () => {
  it('after a SIGTERM the last request line and the final "stopped" line are on stdout', async () => {
    dataDir = await prepareDataDir();
    h = await startChildHearth({ HEARTH_DATA_DIR: dataDir });
    const reqId = `flush-${Date.now()}`;
    const res = await fetch(`${h.url}/v1/functions`, { headers: { 'x-request-id': reqId } });
    expect(res.status).toBe(200);
    h.child.kill('SIGTERM');
    await h.exited;
    expect(h.child.exitCode).toBe(0);
    const lines = jsonLines(h.output());
    expect(lines).toContainEqual(expect.objectContaining({ msg: 'request', reqId, method: 'GET', path: '/v1/functions', status: 200 }));
    // Logged just before exit, so only the flush on the way out can have written it.
    expect(lines.at(-1)).toMatchObject({ msg: 'stopped', component: 'shutdown' });
  });
});
