/** OCI image-spec shapes and media types, only the parts Hearth writes or reads. */
import { AGENT_BUNDLE_PATH } from './build/agent-path.ts';

export const MEDIA_TYPE = {
  index: 'application/vnd.oci.image.index.v1+json',
  manifest: 'application/vnd.oci.image.manifest.v1+json',
  config: 'application/vnd.oci.image.config.v1+json',
  layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  layerTar: 'application/vnd.oci.image.layer.v1.tar',
  // Images built by Docker carry these; the bytes are the same as their OCI twins.
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
} as const;

export const ANNOTATION = {
  refName: 'org.opencontainers.image.ref.name',
  function: 'io.hearth.function',
} as const;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType: string;
  manifests: Descriptor[];
}

export interface ImageConfig {
  architecture: string;
  os: string;
  config?: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    Labels?: Record<string, string>;
  };
  rootfs: { type: 'layers'; diff_ids: string[] };
}

/**
 * The image config of a function. No `created` time: the same inputs must give the same digest.
 * The entrypoint runs tini as pid 1 (node does not reap orphans), which starts the agent.
 */
export function functionImageConfig(name: string, diffIds: string[]): ImageConfig {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: {
      User: '1000:1000',
      Env: ['PATH=/usr/bin:/bin', 'NODE_ENV=production'],
      Entrypoint: ['/usr/bin/tini', '--', '/usr/bin/node', AGENT_BUNDLE_PATH],
      WorkingDir: '/function',
      Labels: { [ANNOTATION.function]: name },
    },
    rootfs: { type: 'layers', diff_ids: diffIds },
  };
}

export function functionManifest(name: string, config: Descriptor, layers: Descriptor[]): ImageManifest {
  return {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE.manifest,
    config,
    layers,
    annotations: { [ANNOTATION.function]: name },
  };
}

/** Narrow a parsed manifest blob; throws on anything we could not unpack. */
export function parseManifest(value: unknown): ImageManifest {
  const m = value as Partial<ImageManifest> | null;
  if (!m || m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new Error('not an OCI image manifest');
  }
  if (m.mediaType !== undefined && m.mediaType !== MEDIA_TYPE.manifest && m.mediaType !== MEDIA_TYPE.dockerManifest) {
    throw new Error(`unsupported manifest media type ${m.mediaType}`);
  }
  return m as ImageManifest;
}

export function parseImageConfig(value: unknown): ImageConfig {
  const c = value as Partial<ImageConfig> | null;
  if (!c || !c.rootfs || !Array.isArray(c.rootfs.diff_ids)) throw new Error('not an OCI image config');
  return c as ImageConfig;
}
