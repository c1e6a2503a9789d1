/** /proc/self/mountinfo, parsed: the one source for both overlay and cgroup mount lookups. */
import { readFile } from 'node:fs/promises';

export interface MountEntry {
  mountpoint: string;
  fstype: string;
  source: string;
  superOptions: string[];
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountPath(p: string): string {
  return p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

export function parseMountInfo(text: string): MountEntry[] {
  const entries: MountEntry[] = [];
  for (const line of text.split('\n')) {
    // Optional fields sit before the " - " separator, so split the two halves separately.
    const sep = line.indexOf(' - ');
    if (sep === -1) continue;
    const mountpoint = line.slice(0, sep).split(' ')[4];
    const [fstype, source = '', superOpts = ''] = line.slice(sep + 3).split(' ');
    if (mountpoint === undefined || fstype === undefined) continue;
    entries.push({
      mountpoint: unescapeMountPath(mountpoint),
      fstype,
      source: unescapeMountPath(source),
      superOptions: superOpts.split(','),
    });
  }
  return entries;
}

export async function readMountInfo(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}
