export { buildProgram, runCli } from './program.ts';
export type { CliIo } from './program.ts';
