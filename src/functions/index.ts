export { FunctionService, describeZodError } from './function-service.ts';
export type { DeployRequest, DeployResult } from './function-service.ts';
