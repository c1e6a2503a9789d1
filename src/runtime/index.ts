/**
 * The container engine: hardened OCI spec, runc driver, overlay rootfs, the in-container agent and
 * the host side of its channel. See Runtime (owner) and Container (one running function instance).
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const agentFile = (ext: string): string => fileURLToPath(new URL(`./agent/agent.${ext}`, import.meta.url));

/**
 * Absolute path of the agent source; the image module bundles it (esbuild, CommonJS, platform
 * node) to /hearth/agent.cjs. The TypeScript in a checkout, the compiled JavaScript in the installed package.
 */
export const AGENT_ENTRY: string = existsSync(agentFile('ts')) ? agentFile('ts') : agentFile('js');

export { Runtime } from './runtime.ts';
export { runcVersionWarnings, parseRuncVersion, RUNC_ADVISORIES } from './runc-version.ts';
export { Container } from './container.ts';
export { ContainerStartError } from './start-error.ts';
export type { HttpRequestHead } from './protocol.ts';
export type { SpecializeOptions } from './container.ts';
export type { StartFailure } from './start-error.ts';
export type {
  ContainerExit,
  ContainerOptions,
  HttpSink,
  InvokeErrorCode,
  InvokeOutcome,
  InvokeRequest,
  LogLine,
  RuntimeOptions,
} from './types.ts';
