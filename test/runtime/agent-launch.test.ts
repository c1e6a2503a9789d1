import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentFilesCache } from '../../src/runtime/agent-launch.ts';
import { AGENT_PATH, LEGACY_AGENT_PATH, NODE_PRELOAD_PATH } from '../../src/runtime/spec/index.ts';

const dirs: string[] = [];
afterAll(() => Promise.all(dirs.map((d) => rm(d, { recursive: true, force: true }))));

/** An unpacked layer dir holding `files` (paths as the container sees them). */
async function layer(...files: string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'hearth-layer-'));
  dirs.push(dir);
  for (const f of files) {
    await mkdir(path.join(dir, path.dirname(f)), { recursive: true });
    await writeFile(path.join(dir, f), '');
  }
  return dir;
}

describe('AgentFilesCache', () => {
  it('finds what the base layer ships once per list of layer dirs', async () => {
    const fn = await layer('function/index.cjs');
    const current = await layer(AGENT_PATH, NODE_PRELOAD_PATH);
    const older = await layer(LEGACY_AGENT_PATH);
    const cache = new AgentFilesCache();
    const first = cache.get([fn, current]);
    expect(cache.get([fn, current])).toBe(first);
    expect(await first).toEqual({ agentPath: AGENT_PATH, nodePreload: true });
    expect(await cache.get([fn, older])).toEqual({ agentPath: LEGACY_AGENT_PATH, nodePreload: false });
  });
});
