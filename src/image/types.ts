/** A layer as stored: `digest` names the gzip blob, `diffId` the uncompressed tar (both "sha256:<hex>"). */
export interface LayerInfo {
  digest: string;
  diffId: string;
  size: number;
  mediaType: string;
}

/** Where a function's code comes from: an HTTP deploy (`files`) or a folder on disk (`dir`). */
export type FunctionSource =
  | { kind: 'files'; files: Record<string, string>; entry?: string }
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
  buildMs: number;
}

export interface ImageStoreOptions {
  /** e.g. `<dataDir>/images`. */
  root: string;
  /** The agent's TypeScript entry (src/runtime/agent/agent.ts), bundled into the base layer. */
  agentEntry: string;
}
