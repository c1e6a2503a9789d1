import { median } from '../stats.ts';
import type { HearthApi } from './api.ts';
import { tinySource } from './cold.ts';

export interface DeployFigures {
  /** POST /v1/functions of a new small function until it is listed as invocable, p50 ms. */
  p50Ms: number;
  /** The same plus its first call (a cold start), p50 ms: what `deploy && curl` waits. */
  withFirstCallP50Ms: number;
}

/** Deploys `samples` new one-line functions; each must answer a call afterwards. */
export async function measureDeploy(api: HearthApi, samples: number): Promise<DeployFigures> {
  const deploy: number[] = [];
  const withCall: number[] = [];
  for (let i = 0; i < samples; i++) {
    const name = `deploy-${i}`;
    const t = performance.now();
    await api.deploy(name, tinySource(i));
    // 201 should already mean invocable; the check keeps the figure honest if that ever changes.
    for (let tries = 0; !(await api.exists(name)); tries++) {
      if (tries > 5000) throw new Error(`deploy ${name}: 201 but not listed after 5000 looks`);
    }
    deploy.push(performance.now() - t);
    await api.invoke(name);
    withCall.push(performance.now() - t);
  }
  return { p50Ms: median(deploy), withFirstCallP50Ms: median(withCall) };
}
