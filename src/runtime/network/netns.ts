/** Named network namespaces (`ip netns`): /run/netns/<name>, which runc joins by path. */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { runChecked, runCommand } from '../command.ts';

export const NETNS_DIR = '/run/netns';

export function netnsPath(name: string): string {
  return join(NETNS_DIR, name);
}

/** Creates the namespace and brings its loopback up (CNI only configures the interface it adds). */
export async function createNetns(name: string): Promise<string> {
  await runChecked('ip', ['netns', 'add', name]);
  try {
    await runChecked('ip', ['-n', name, 'link', 'set', 'lo', 'up']);
  } catch (e) {
    await deleteNetns(name);
    throw e;
  }
  return netnsPath(name);
}

/** Removes it; a namespace that is not there is fine. */
export async function deleteNetns(name: string): Promise<void> {
  const r = await runCommand('ip', ['netns', 'delete', name]);
  if (r.code !== 0 && !/No such file|not exist/i.test(r.stderr)) throw new Error(`ip netns delete ${name}: ${r.stderr.trim()}`);
}

export async function listNetns(prefix: string): Promise<string[]> {
  const names = await readdir(NETNS_DIR).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix));
}
