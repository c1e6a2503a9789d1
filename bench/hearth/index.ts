export { HearthProcess } from './process.ts';
export { HearthApi } from './api.ts';
export { NOOP, measureWarm, type WarmFigures } from './warm.ts';
export { measureAsync, type AsyncFigures } from './async.ts';
export { honoZodSource, measureColdStarts, measureManyCold, tinySource, type ColdFigures, type ManyColdFigures } from './cold.ts';
export { measureStemCells, type StemFigures } from './stem.ts';
export { measureDeploy, type DeployFigures } from './deploy.ts';
export { hostMemoryPerContainer, measureIdleMemory, type MemoryFigures } from './memory.ts';
