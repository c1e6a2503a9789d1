/**
 * The user's code cannot be built: esbuild's messages, a missing entry, a bad file path.
 * The gateway maps it to 400 invalid_request; anything else thrown by this module is ours (500).
 */
export class BuildError extends Error {
  override name = 'BuildError';
}
