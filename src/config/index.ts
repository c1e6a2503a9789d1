export { functionConfigSchema, functionName, parseFunctionConfig } from './function-config.ts';
export type { FunctionConfig, FunctionConfigInput } from './function-config.ts';
export { assertSafeBind, isLoopbackHost, loadSettings } from './settings.ts';
export type { Settings } from './settings.ts';
