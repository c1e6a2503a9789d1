export { settlesWithin } from './bounded.ts';
export { quitRedis, REDIS_QUIT_MS } from './quit-redis.ts';
export { ShutdownSteps, DEFAULT_STEP_MS } from './shutdown-steps.ts';
export type { StepReport } from './shutdown-steps.ts';
export { handleStopSignals } from './stop-signals.ts';
export type { StopHandlers } from './stop-signals.ts';
