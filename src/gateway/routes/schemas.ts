// The schemas moved to src/api (shared with the SDK and the OpenAPI document); kept so imports of this path still work.
export * from '../../api/schemas.ts';
