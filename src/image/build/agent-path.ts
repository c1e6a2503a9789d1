/**
 * Where the base layer puts the agent bundle. CommonJS: node starts a .cjs entry without its ES
 * module loader, ~5 ms of a cold start (measured); base layers built before it hold
 * `/hearth/agent.mjs`, which the runtime still starts.
 */
export const AGENT_BUNDLE_PATH = '/hearth/agent.cjs';
