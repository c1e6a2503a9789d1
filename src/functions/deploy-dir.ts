import { readdir, readFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { FunctionService } from './function-service.ts';

/**
 * Deploys every function folder under `dir` (what `npm start` serves): a folder with a
 * `hearth.json` or an index file. A folder whose image is unchanged keeps its current version (deploy says `unchanged`).
 * Returns one log line per folder; a broken example is reported, not fatal.
 */
export async function deployFunctionsDir(functions: FunctionService, dir: string): Promise<string[]> {
  if (!existsSync(dir)) return [];
  const lines: string[] = [];
  const entries = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory()).sort((a, b) => a.name.localeCompare(b.name));
  for (const entry of entries) {
    const folder = path.join(dir, entry.name);
    const configPath = path.join(folder, 'hearth.json');
    const hasIndex = ['index.ts', 'index.js', 'index.mjs', 'index.mts'].some((f) => existsSync(path.join(folder, f)));
    if (!existsSync(configPath) && !hasIndex) continue;
    try {
      const config = existsSync(configPath) ? (JSON.parse(await readFile(configPath, 'utf8')) as { name?: unknown }) : {};
      const name = typeof config.name === 'string' ? config.name : entry.name;
      const result = await functions.deploy({ name, source: { kind: 'dir', dir: folder }, config });
      lines.push(`deployed ${name} v${result.version} ${result.digest}`);
    } catch (err) {
      lines.push(`could not deploy ${folder}: ${(err as Error).message}`);
    }
  }
  return lines;
}
