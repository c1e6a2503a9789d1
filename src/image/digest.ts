import { createHash } from 'node:crypto';

const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;

/** "sha256:<hex>" of some bytes. */
export function sha256Digest(data: Uint8Array | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

export function isDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST_RE.test(value);
}

/**
 * The hex part of a digest. Digests become file names, so anything but a well-formed sha256
 * digest is refused here, before it can reach a path.
 */
export function digestHex(digest: string): string {
  if (!isDigest(digest)) throw new Error(`not a sha256 digest: ${JSON.stringify(digest)}`);
  return digest.slice('sha256:'.length);
}
