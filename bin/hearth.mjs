#!/usr/bin/env -S node --max-semi-space-size=32
// The `hearth` command. Installed from the package it runs the compiled dist/; in a checkout
// (src/ beside it) it runs the TypeScript through tsx, so development never sees a stale build.
// Paths are resolved from this file's real location, so it also works through `npm link`'s symlink.
// The flag is the server's (`hearth up`), as in package.json's start script: see docs/architecture.md.
import { existsSync } from 'node:fs';

if (existsSync(new URL('../src/cli/main.ts', import.meta.url)) && process.env.HEARTH_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../src/cli/main.ts');
} else {
  await import('../dist/cli/main.js');
}
