/**
 * The user's code cannot be built: esbuild's messages, a missing entry, a bad file path.
 * The gateway maps it to 400 invalid_request; anything else thrown by this module is ours (500).
 */
export class BuildError extends Error {
  override name = 'BuildError';
}

/**
 * Stored or fetched bytes do not hash to the digest (or diffId) that names them: a damaged disk,
 * a tampered registry, a truncated transfer. Such content is never used; a caller that can fetch
 * the image again (from a registry) may do so, and nothing else is worth retrying.
 */
export class CorruptContentError extends Error {
  override name = 'CorruptContentError';

  constructor(
    /** The digest the content claims to have. */
    readonly digest: string,
    message: string,
  ) {
    super(message);
  }
}

/** The files shipped beside a function's bundle exceed the size cap: the gateway answers 413. */
export class AssetsTooLargeError extends BuildError {
  override name = 'AssetsTooLargeError';
}
