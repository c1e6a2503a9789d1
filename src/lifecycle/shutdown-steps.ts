import type { Logger } from 'pino';
import { settlesWithin } from '../time-bound/index.ts';

/** What one step may take unless it says otherwise. */
export const DEFAULT_STEP_MS = 3_000;

export interface StepReport {
  step: string;
  ms: number;
  outcome: 'done' | 'timeout' | 'failed';
}

interface Step {
  name: string;
  run: () => Promise<unknown>;
  maxMs: number;
}

/**
 * The stop of a server as a list of named steps, added in start order and run in reverse (what
 * started last stops first). Each step is bounded: one that overruns is logged and left behind,
 * and the next one starts, so a stop always ends. Each step logs one JSON line.
 *
 * @example
 * steps.add('redis', () => managed.close(), 6_000);
 * await steps.runAll(log);
 */
export class ShutdownSteps {
  private readonly steps: Step[] = [];

  add(name: string, run: () => Promise<unknown>, maxMs = DEFAULT_STEP_MS): void {
    this.steps.push({ name, run, maxMs });
  }

  get pending(): number {
    return this.steps.length;
  }

  /** Runs every step added so far, newest first; steps added meanwhile run too. */
  async runAll(log: Logger): Promise<StepReport[]> {
    const reports: StepReport[] = [];
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      const started = performance.now();
      let failure: Error | undefined;
      const work = Promise.resolve().then(step.run).catch((err: unknown) => {
        failure = err instanceof Error ? err : new Error(String(err));
      });
      const inTime = await settlesWithin(work, step.maxMs);
      const report: StepReport = {
        step: step.name,
        ms: Math.round(performance.now() - started),
        outcome: !inTime ? 'timeout' : failure ? 'failed' : 'done',
      };
      reports.push(report);
      if (report.outcome === 'done') log.debug(report, 'shutdown step done');
      else log.warn({ ...report, maxMs: step.maxMs, ...(failure ? { err: failure.message } : {}) }, `shutdown step ${report.outcome === 'timeout' ? 'overran its time and was left behind' : 'failed'}`);
    }
    return reports;
  }
}
