import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { isAlive, processArgs } from './process-table.ts';

const OWNER_FILE = 'owner.pid';

/**
 * Marks the Redis dir as this process's. Another live Hearth holding it is an error (two servers
 * would write one AOF); a dead owner's mark is a crash leftover and is taken over.
 */
export async function claimDataDir(dir: string): Promise<void> {
  const file = path.join(dir, OWNER_FILE);
  const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && (await isAlive(owner))) {
    const args = (await processArgs(owner)) ?? [];
    // A recycled pid belongs to some other program: only a node process can be a Hearth.
    if (args.some((a) => /(^|\/)node(\s|$)|tsx|hearth/.test(a))) {
      throw new Error(`the data dir ${path.dirname(dir)} is in use by another Hearth (pid ${owner}); stop it first`);
    }
  }
  await writeFile(file, `${process.pid}\n`);
}

export async function releaseDataDir(dir: string): Promise<void> {
  const file = path.join(dir, OWNER_FILE);
  const owner = Number((await readFile(file, 'utf8').catch(() => '')).trim());
  if (owner === process.pid) await rm(file, { force: true });
}
