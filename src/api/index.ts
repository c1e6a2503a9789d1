export * from './schemas.ts';
export { operations } from './operations.ts';
export type { Operation } from './operations.ts';
export { openApiDocument } from './openapi.ts';
