export { DEFAULT_MEMORY_MB, functionConfigSchema, functionName, parseFunctionConfig, SCHEDULE_ID } from './function-config.ts';
export type { FunctionConfig, FunctionConfigInput } from './function-config.ts';
export { assertSafeBind, DEFAULT_STEM_CELLS, defaultNodeName, isLoopbackHost, loadSettings } from './settings.ts';
export { defaultPoolMemoryMb } from './host-memory.ts';
export type { Settings } from './settings.ts';
