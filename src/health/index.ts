export { Readiness, type LifecyclePhase, type ReadinessReport } from './readiness.ts';
