import { median, sleep } from '../stats.ts';
import type { HearthApi } from './api.ts';
import { tinySource } from './cold.ts';

export interface StemFigures {
  p50Ms: number;
  /** First invokes that a stem cell served (the others are left out of the figure). */
  samples: number;
}

/**
 * First invokes of new functions on a Hearth started with stem cells: waits until `stemCells` are
 * ready, deploys a new function (`prefix-i`, tiny unless `source` says otherwise), times its first
 * invoke, and keeps the sample if a stem cell served it. With `name`, each sample is a new version
 * of that one function instead (its previous version's container retires), and the first
 * `untimed` samples are run, not counted.
 */
export async function measureStemCells(
  api: HearthApi,
  o: { samples: number; stemCells: number; prefix?: string; name?: string; untimed?: number; source?: (i: number) => string },
): Promise<StemFigures> {
  const times: number[] = [];
  for (let i = 0; i < o.samples; i++) {
    const name = o.name ?? `${o.prefix ?? 'stem'}-${i}`;
    await waitForReadyStemCells(api, o.stemCells);
    await api.deploy(name, (o.source ?? tinySource)(i), { idleTimeoutMs: 600_000 });
    const t = performance.now();
    const { coldStart } = await api.invoke(name);
    const elapsed = performance.now() - t;
    const served = (await api.pool()).containers.find((c) => c.function === name);
    if (coldStart && served?.fromStemCell && i >= (o.untimed ?? 0)) times.push(elapsed);
  }
  return { p50Ms: median(times), samples: times.length };
}

async function waitForReadyStemCells(api: HearthApi, count: number): Promise<void> {
  for (let t = 0; t < 400; t++) {
    if ((await api.pool()).stemCells.filter((c) => c.state === 'ready').length >= count) return;
    await sleep(25);
  }
  throw new Error(`stem cells: fewer than ${count} ready after 10 s`);
}
