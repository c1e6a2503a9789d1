/**
 * The resolver file of a networked container, written into its bundle dir (so it goes with it).
 * Without configured servers it follows the host: /etc/resolv.conf, or, when that only names a
 * loopback stub (systemd-resolved), the upstream servers the stub uses.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { containerResolvConf, renderResolvConf } from '../spec/index.ts';

const HOST_RESOLV_CONFS = ['/etc/resolv.conf', '/run/systemd/resolve/resolv.conf'];

async function hostResolvConf(): Promise<string | undefined> {
  let first: string | undefined;
  for (const file of HOST_RESOLV_CONFS) {
    const text = await readFile(file, 'utf8').catch(() => undefined);
    if (text === undefined) continue;
    first ??= text;
    if (containerResolvConf(text).nameservers.length > 0) return text;
  }
  return first;
}

/** Writes `<bundleDir>/resolv.conf` and returns its path. */
export async function writeResolvConf(bundleDir: string, servers: string[] | undefined): Promise<string> {
  const file = join(bundleDir, 'resolv.conf');
  const hostText = servers && servers.length > 0 ? undefined : await hostResolvConf();
  await writeFile(file, renderResolvConf(servers, hostText), { mode: 0o644 });
  return file;
}
