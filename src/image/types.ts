import type { Descriptor } from './oci.ts';

/** A layer as stored: `digest` names the gzip blob, `diffId` the uncompressed tar (both "sha256:<hex>"). */
export interface LayerInfo {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

/** One file of an HTTP deploy: UTF-8 text as is, or any bytes (fonts, .wasm, images) as base64. */
export type DeployFileContent = string | { base64: string };

/** Where a function's code comes from: an HTTP deploy (`files`) or a folder on disk (`dir`). */
export type FunctionSource =
  | { kind: 'files'; files: Record<string, DeployFileContent>; entry?: string }
  | { kind: 'dir'; dir: string; entry?: string };

export interface FunctionImage {
  name: string;
  /** Manifest digest "sha256:…": the image's identity. */
  digest: string;
  configDigest: string;
  /** [base, function], bottom-most first as in the manifest. */
  layers: LayerInfo[];
  /** Size of the bundled JS. */
  bundleBytes: number;
  /** Bytes of the files shipped beside the bundle (assets and `external` packages), uncompressed. */
  assetBytes: number;
  buildMs: number;
  /** Present when built with `pin`: lets garbage collection remove the image again. */
  unpin?: () => void;
}

/** A stored image as a push reads it. */
export interface StoredImage {
  digest: string;
  mediaType: string;
  manifestBytes: Buffer;
  /** Config first, then layers. */
  blobs: Descriptor[];
  /** Where a blob's bytes are on disk. */
  path: (digest: string) => string;
}

/** Disk used by the image store (apparent sizes). */
export interface DiskUsage {
  totalBytes: number;
  /** Compressed layers, configs and manifests. */
  blobBytes: number;
  /** Unpacked layer dirs (what overlayfs stacks). */
  layerBytes: number;
  blobs: number;
  layers: number;
}

export interface ImageStoreOptions {
  /** e.g. `<dataDir>/images`. */
  root: string;
  /** The agent's TypeScript entry (src/runtime/agent/agent.ts), bundled into the base layer. */
  agentEntry: string;
  /** Cap on the bytes a function ships beside its bundle; default HEARTH_MAX_ASSET_BYTES from the environment, else 50 MiB. */
  maxAssetBytes?: number;
}
