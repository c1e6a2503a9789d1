export { FunctionService, describeZodError } from './function-service.ts';
export type { DeployRequest, DeployResult, FunctionDescription, GcResult, VersionEntry } from './function-service.ts';
export { ImageRegistry } from './image-registry.ts';
export type { PushedImage } from './image-registry.ts';
export { imageResolver } from './image-resolver.ts';
export { StorageCollector } from './storage-collector.ts';
export type { StorageCollectorOptions } from './storage-collector.ts';
export { ImageAvailability } from './image-availability.ts';
export type { ImageAvailabilityOptions, ImageRef } from './image-availability.ts';
