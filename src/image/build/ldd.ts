import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * Absolute paths of the shared objects a binary loads, from `ldd` output such as
 *   libc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x…)
 *   /lib64/ld-linux-x86-64.so.2 (0x…)
 *   linux-vdso.so.1 (0x…)                  ← in the kernel, no file: skipped
 * The paths are kept as the loader looks them up (not resolved), because the image must hold
 * each library at the path the binary expects.
 */
export function parseLdd(output: string): string[] {
  const libs = new Set<string>();
  for (const raw of output.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.includes('not found')) throw new Error(`missing shared library: ${line}`);
    if (/not a dynamic executable|statically linked/.test(line)) return [];
    const arrow = /^\S+ => (\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    const direct = /^(\/\S+) \(0x[0-9a-f]+\)$/.exec(line);
    const lib = arrow?.[1] ?? direct?.[1];
    if (lib) libs.add(lib);
  }
  return [...libs].sort();
}

export async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  return parseLdd(stdout);
}
