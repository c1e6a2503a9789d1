import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Owners } from '../owners.ts';
import { sleep } from '../stats.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** The node flags of a checkout's start script (`node <flags> dist/cli/main.js up`): the bench runs what `npm start` runs. */
function startScriptNodeFlags(root: string): string[] {
  const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { scripts: { start: string } };
  const words = pkg.scripts.start.trim().split(/\s+/);
  const main = words.indexOf('dist/cli/main.js');
  if (words[0] !== 'node' || main < 0) throw new Error(`package.json's start script is not "node … dist/cli/main.js up": ${pkg.scripts.start}`);
  return words.slice(1, main);
}

/**
 * A Hearth started the way `npm start` starts it (`node <its flags> dist/cli/main.js up`, after building dist/
 * if a source changed: not through tsx, whose transform adds work to every call), as a process of its
 * own: its own data dir (and so its own managed Redis), a free loopback port, no example functions,
 * default logging with its output in `logFile`.
 */
export class HearthProcess {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    readonly url: string,
  ) {}

  get pid(): number {
    return this.child.pid!;
  }

  static async start(
    owners: Owners,
    o: {
      dataDir: string;
      logFile: string;
      env?: Record<string, string>;
      /** e.g. --cpu-prof */
      nodeArgs?: string[];
      /** Another checkout to run (its dist/ and start script): compare-builds.ts runs a base commit beside this one. */
      root?: string;
    },
  ): Promise<{ hearth: HearthProcess; stop: () => Promise<void> }> {
    const root = o.root ?? repoRoot;
    // What `npm start`'s prestart does; returns at once when dist/ is current.
    execFileSync(process.execPath, ['scripts/build.mjs', '--if-needed'], { cwd: root, stdio: 'inherit' });
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {};
    // The caller's own Hearth settings (REDIS_URL, a log level …) must not leak into the measurement.
    for (const [k, v] of Object.entries(process.env)) if (!k.startsWith('HEARTH_') && k !== 'REDIS_URL') env[k] = v;
    Object.assign(env, { HEARTH_DATA_DIR: o.dataDir, HEARTH_PORT: String(port), HEARTH_HOST: '127.0.0.1', HEARTH_FUNCTIONS_DIR: '' }, o.env);
    const log = openSync(o.logFile, 'a');
    // setpriv: Hearth gets SIGTERM (and removes its containers) even if the bench dies without stopping it.
    // detached: a Ctrl-C reaches only the bench, which then stops Hearth itself, in order.
    const child = spawn('setpriv', ['--pdeathsig', 'SIGTERM', process.execPath, ...startScriptNodeFlags(root), ...(o.nodeArgs ?? []), 'dist/cli/main.js', 'up'], {
      cwd: root,
      env,
      stdio: ['ignore', log, log],
      detached: true,
    });
    closeSync(log);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const hearth = new HearthProcess(child, exited, `http://127.0.0.1:${port}`);
    const stop = owners.add(`hearth (${o.dataDir})`, () => hearth.stop());
    try {
      await hearth.waitReady(o.logFile);
    } catch (err) {
      await stop();
      throw err;
    }
    return { hearth, stop };
  }

  private async waitReady(logFile: string): Promise<void> {
    const deadline = Date.now() + 180_000;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null) throw new Error(`hearth exited (${this.child.exitCode}) while starting; see ${logFile}`);
      if (await this.ready()) return;
      await sleep(100);
    }
    throw new Error(`hearth not ready after 180 s; see ${logFile}`);
  }

  /** /readyz says so; a Hearth without /readyz is ready once /healthz answers (it listens only when started). */
  private async ready(): Promise<boolean> {
    const status = (p: string) => fetch(`${this.url}${p}`).then((r) => r.status, () => 0);
    const readyz = await status('/readyz');
    return readyz === 200 || (readyz === 404 && (await status('/healthz')) === 200);
  }

  /** SIGTERM (Hearth finishes in-flight calls and removes its containers), SIGKILL to its group after 45 s. */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => {
      try {
        process.kill(-this.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }, 45_000);
    await this.exited;
    clearTimeout(timer);
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
