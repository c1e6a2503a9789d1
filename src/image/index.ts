export { AssetsTooLargeError, BuildError, CorruptContentError } from './errors.ts';
export { ImageStore } from './image-store.ts';
export type { DeployFileContent, FunctionImage, FunctionSource, ImageStoreOptions, LayerInfo } from './types.ts';
export type { DiskUsage, StoredImage } from './types.ts';
export type { CollectionReport } from './gc.ts';
export * from './build/index.ts';
export * from './registry/index.ts';
