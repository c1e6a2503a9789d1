import { fileURLToPath } from 'node:url';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { nodeBundleOptions } from '../../src/image/index.ts';
import { inParallel } from '../load.ts';
import { median, sleep } from '../stats.ts';
import type { HearthApi } from './api.ts';

export interface ColdFigures {
  p50Ms: number;
  /** Samples Hearth served from a container it started for the call. */
  samples: number;
  /** The floor's p50 over the runs alternated with Hearth's samples, when one was given. */
  floorP50Ms?: number;
}

const COLD_CONFIG = { idleTimeoutMs: 600_000 };
/** After a deploy: the previous version's container retires and a rootfs may be mounted ahead; neither belongs in the figure. */
const SETTLE_MS = 250;

/**
 * Cold starts through HTTP: each sample redeploys `name` (a new version, so no warm container and no
 * stem cell can serve it), waits for the deploy to settle, then times one sync invoke. With
 * `floor`, one run of it is timed before each deploy (one untimed first), so a machine whose
 * speed drifts moves Hearth and the floor alike. The first `untimed` samples are run, not counted.
 */
export async function measureColdStarts(api: HearthApi, name: string, samples: number, sourceOf: (i: number) => string, floor?: () => Promise<void>, untimed = 0): Promise<ColdFigures> {
  const times: number[] = [];
  const floorTimes: number[] = [];
  await floor?.();
  for (let i = 0; i < samples; i++) {
    const counted = i >= untimed;
    // Before the deploy: Hearth is idle then, so its deploy work never slows the floor.
    if (floor && counted) floorTimes.push(await timed(floor));
    await api.deploy(name, sourceOf(i), COLD_CONFIG);
    await sleep(SETTLE_MS);
    const t = performance.now();
    const { coldStart } = await api.invoke(name);
    const elapsed = performance.now() - t;
    if (coldStart && counted) times.push(elapsed);
  }
  return { p50Ms: median(times), samples: times.length, ...(floor ? { floorP50Ms: median(floorTimes) } : {}) };
}

async function timed(op: () => Promise<void>): Promise<number> {
  const t = performance.now();
  await op();
  return performance.now() - t;
}

export const tinySource = (i: number): string => `export default async () => ${i}`;

/** The hono + zod function, bundled here as the CLI would; each sample gets a distinct version. */
export async function honoZodSource(): Promise<(i: number) => string> {
  const entry = fileURLToPath(new URL('../functions/hono-zod.ts', import.meta.url));
  // The CLI's options: the server re-bundles the upload and adds the require shim itself.
  const result = await esbuild.build(nodeBundleOptions(path.dirname(entry), entry, { requireShim: false }));
  const code = result.outputFiles[0]!.text;
  // Code, not a comment: the server re-bundles the upload (comments go) and an identical bundle is no new version.
  return (i) => `${code}\nexport const benchVersion = ${i};\n`;
}

export interface ManyColdFigures {
  functions: number;
  p50Ms: number;
  /** Calls that did not report a cold start (should be none: each function is new). */
  warm: number;
  /** The p50 of each quarter of the calls, in call order: shows when the node filled up. */
  quarterP50Ms: number[];
}

/** `n` new functions, each invoked once, 4 at a time: every call is a cold start of its own function. */
export async function measureManyCold(api: HearthApi, n: number): Promise<ManyColdFigures> {
  const name = (i: number) => `many-${i}`;
  await inParallel(n, 4, (i) => api.deploy(name(i), tinySource(i), COLD_CONFIG));
  await sleep(1000);
  let warm = 0;
  const times = await inParallel(n, 4, async (i) => {
    if (!(await api.invoke(name(i))).coldStart) warm++;
  });
  const quarter = Math.ceil(n / 4);
  const quarterP50Ms = [0, 1, 2, 3].map((q) => median(times.slice(q * quarter, (q + 1) * quarter)));
  return { functions: n, p50Ms: median(times), warm, quarterP50Ms };
}
