export { BuildError } from './errors.ts';
export { ImageStore } from './image-store.ts';
export type { FunctionImage, FunctionSource, ImageStoreOptions, LayerInfo } from './types.ts';
