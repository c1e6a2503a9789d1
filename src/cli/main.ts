import { runCli } from './program.ts';

/** Entry of bin/hearth.mjs. */
const code = await runCli(process.argv.slice(2), {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  tty: process.stderr.isTTY === true,
  env: process.env,
});
// Let stdout drain before leaving (a piped `--json` must arrive whole).
process.exitCode = code;
