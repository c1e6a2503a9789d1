/**
 * How a container's node starts the agent: which agent file and node preload the image's base
 * layer ships, and what the agent is asked to do with its bundle's code cache.
 */
import { access } from 'node:fs/promises';
import { join } from 'node:path';
import { AGENT_PATH, LEGACY_AGENT_PATH, NODE_PRELOAD_PATH } from './spec/index.ts';
import type { ContainerOptions } from './types.ts';

/**
 * The agent's code-cache mode: only compile (a precompile), load with a cache that follows (and
 * make a fuller one after the first invocation when it holds compiled code only), or make one.
 */
export function codeCacheMode(opts: ContainerOptions, cache: { compiledOnly: boolean } | undefined): 'compile' | 'follows' | 'upgrade' | 'produce' {
  return opts.codeCacheCompileOnly ? 'compile' : cacheMode(cache);
}

/** What the agent does with the cache it is given (none: it makes one after the first invocation). */
export function cacheMode(cache: { compiledOnly: boolean } | undefined): 'follows' | 'upgrade' | 'produce' {
  if (!cache) return 'produce';
  return cache.compiledOnly ? 'upgrade' : 'follows';
}

/** What the image's base layer ships of the agent and the node preload (older base layers lack either). */
export async function agentFiles(layerDirs: string[]): Promise<{ agentPath: string; nodePreload: boolean }> {
  const [agent, nodePreload] = await Promise.all([inSomeLayer(layerDirs, AGENT_PATH), inSomeLayer(layerDirs, NODE_PRELOAD_PATH)]);
  return { agentPath: agent ? AGENT_PATH : LEGACY_AGENT_PATH, nodePreload };
}

/** Images a Runtime remembers what their base layer ships for; past it, it starts over. */
const KNOWN_IMAGES = 1000;

/**
 * agentFiles per list of layer dirs, found once: an unpacked layer never changes (its dir appears
 * complete, and one unpacked again has the same content), and a start saves 2 × layers stats.
 */
export class AgentFilesCache {
  private readonly byLayers = new Map<string, Promise<{ agentPath: string; nodePreload: boolean }>>();

  get(layerDirs: string[]): Promise<{ agentPath: string; nodePreload: boolean }> {
    const key = layerDirs.join('\0');
    let found = this.byLayers.get(key);
    if (!found) {
      if (this.byLayers.size >= KNOWN_IMAGES) this.byLayers.clear();
      found = agentFiles(layerDirs);
      this.byLayers.set(key, found);
    }
    return found;
  }
}

/** A stat per layer. */
async function inSomeLayer(layerDirs: string[], file: string): Promise<boolean> {
  const found = await Promise.all(layerDirs.map((dir) => access(join(dir, file)).then(() => true, () => false)));
  return found.includes(true);
}
