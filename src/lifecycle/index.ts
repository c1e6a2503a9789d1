export { ShutdownSteps, DEFAULT_STEP_MS } from './shutdown-steps.ts';
export type { StepReport } from './shutdown-steps.ts';
export { handleStopSignals } from './stop-signals.ts';
export type { StopHandlers } from './stop-signals.ts';
export { drainInvocations } from './drain.ts';
export type { DrainTargets } from './drain.ts';
