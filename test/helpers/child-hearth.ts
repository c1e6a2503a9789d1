import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ManagedRedis } from '../../src/redis/index.ts';
import { TEMPLATE_IMAGES_DIR } from './template.ts';
import { NO_STEM_CELLS } from './test-settings.ts';

/** A Redis of the test's own, so several Hearths (in-process and child processes) can share it. */
export async function startSharedRedis(): Promise<{ url: string; close(): Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'hearth-r-'));
  const redis = new ManagedRedis(dir);
  await redis.start();
  return {
    url: redis.url,
    async close() {
      await redis.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh data dir with the template base layer hard-linked in (as startHearth does). */
export async function prepareDataDir(): Promise<string> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'hearth-c-'));
  if (existsSync(TEMPLATE_IMAGES_DIR)) {
    await mkdir(dataDir, { recursive: true });
    execFileSync('cp', ['-al', TEMPLATE_IMAGES_DIR, path.join(dataDir, 'images')]);
  }
  return dataDir;
}

export interface ChildHearth {
  url: string;
  child: ChildProcess;
  /** SIGKILL: no clean-up at all, as if the machine lost the process. */
  kill(): Promise<void>;
  /** SIGTERM and wait. */
  stop(): Promise<void>;
  /** Resolves when the process has exited, with how it ended. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything it wrote to stdout and stderr so far. */
  output(): string;
}

export interface ChildHearthOptions {
  /** Its own process group (the child's pid is the group id), so a test can signal the whole group as a terminal or systemd would. */
  ownGroup?: boolean;
}

/** Runs `src/main.ts` in a child process (a second Hearth process) and waits until it listens. */
export async function startChildHearth(env: Record<string, string>, opts: ChildHearthOptions = {}): Promise<ChildHearth> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    // info: the 'listening' log line is how the parent learns the port.
    env: { ...process.env, HEARTH_PORT: '0', HEARTH_HOST: '127.0.0.1', HEARTH_FUNCTIONS_DIR: '', HEARTH_LOG_LEVEL: 'info', ...NO_STEM_CELLS, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: opts.ownGroup ?? false,
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  let output = '';
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`child Hearth did not start: ${output}`)), 60_000);
    const onData = (d: Buffer) => {
      output += d.toString();
      const m = /Hearth listening on (http:\/\/[0-9.:]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child Hearth exited (${code}): ${output}`));
    });
  });
  return {
    url,
    child,
    exited,
    output: () => output,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
