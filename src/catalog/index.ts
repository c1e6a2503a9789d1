export { FunctionCatalog } from './catalog.ts';
export type { FunctionRecord, FunctionVersion } from './catalog.ts';
export { CachedCatalog } from './cached-catalog.ts';
