#!/usr/bin/env node
// The `hearth` command. Hearth is TypeScript run by tsx: register its loader, then load the CLI.
// Resolved from this file's real location, so it also works through `npm link`'s symlink.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
