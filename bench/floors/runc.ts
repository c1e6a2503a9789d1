import { execFile, spawn } from 'node:child_process';
import { copyFile, link, mkdir, readFile, realpath, rm, rmdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { sequential } from '../load.ts';
import { median } from '../stats.ts';

const run = promisify(execFile);

export interface RuncFloor {
  /** `runc run` of `node -e 0`, p50 ms. */
  p50Ms: number;
}

/**
 * A bare `runc run` of `node -e 0` on a minimal rootfs: this machine's node and the shared
 * libraries it links, nothing else; runc's default spec (its own namespaces, read-only root,
 * 128 MiB memory limit). Built by the bench itself so the floor does not move with Hearth's code.
 */
export class BareRunc {
  private runs = 0;

  private constructor(
    private readonly runc: string,
    private readonly bundle: string,
    private readonly stateRoot: string,
  ) {}

  static async prepare(o: { workDir: string; runc?: string }): Promise<BareRunc> {
    const runc = o.runc ?? 'runc';
    const bundle = path.join(o.workDir, 'runc-floor');
    await buildRootfs(path.join(bundle, 'rootfs'));
    await run(runc, ['spec', '--bundle', bundle]);
    const specPath = path.join(bundle, 'config.json');
    const spec = JSON.parse(await readFile(specPath, 'utf8')) as RuncSpec;
    spec.process.terminal = false;
    spec.process.args = ['/usr/bin/node', '-e', '0'];
    spec.root = { path: 'rootfs', readonly: true };
    spec.linux.resources = { ...spec.linux.resources, memory: { limit: 128 * 2 ** 20 } };
    await writeFile(specPath, JSON.stringify(spec));
    return new BareRunc(runc, bundle, path.join('/run/hearth-bench', String(process.pid)));
  }

  /** One `runc run` to its exit. */
  sample(): Promise<void> {
    return runOnce(this.runc, this.stateRoot, this.bundle, `floor-${process.pid}-${this.runs++}`);
  }

  async close(): Promise<void> {
    await rm(this.stateRoot, { recursive: true, force: true });
    // Shared by concurrent benches: removed only when empty.
    await rmdir(path.dirname(this.stateRoot)).catch(() => undefined);
  }
}

/** The floor alone: `samples` sequential runs after 3 untimed ones. */
export async function measureRuncFloor(o: { workDir: string; samples: number; runc?: string }): Promise<RuncFloor> {
  const floor = await BareRunc.prepare(o);
  try {
    return { p50Ms: median(await sequential(o.samples, 3, () => floor.sample())) };
  } finally {
    await floor.close();
  }
}

interface RuncSpec {
  process: { terminal: boolean; args: string[] };
  root: { path: string; readonly: boolean };
  linux: { resources?: Record<string, unknown> };
}

function runOnce(runc: string, stateRoot: string, bundle: string, id: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(runc, ['--root', stateRoot, 'run', '--bundle', bundle, id], { stdio: 'ignore' });
    child.once('error', reject);
    child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`runc run exited ${code}`))));
  });
}

/** node at /usr/bin/node plus each library at the path its loader asks for (what `ldd` prints). */
async function buildRootfs(rootfs: string): Promise<void> {
  const node = await realpath(process.execPath);
  const { stdout } = await run('ldd', [node]);
  const libs = [...stdout.matchAll(/(?:=>\s*)?(\/\S+)\s+\(0x/g)].map((m) => m[1]!);
  const files: Array<[inRootfs: string, onHost: string]> = [['/usr/bin/node', node], ...libs.map((l): [string, string] => [l, l])];
  for (const dir of ['proc', 'dev', 'sys', 'tmp']) await mkdir(path.join(rootfs, dir), { recursive: true });
  for (const [inRootfs, onHost] of files) {
    const target = path.join(rootfs, inRootfs);
    await mkdir(path.dirname(target), { recursive: true });
    const source = await realpath(onHost);
    // A hard link when the work dir shares the host's filesystem, else a copy (node is ~100 MB).
    await link(source, target).catch(() => copyFile(source, target));
  }
}
