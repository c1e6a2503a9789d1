#!/usr/bin/env node
// `npm run build`: compiles src/ to dist/ (JavaScript + declarations) and copies the files the
// code reads beside itself (the dashboard's static files). With --if-needed it does nothing when
// dist/ is newer than every input, so `npm start` and `npm test` can run it every time.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const src = join(root, 'src');
const dist = join(root, 'dist');
const stamp = join(dist, '.build-stamp');
const INPUTS = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'scripts/build.mjs'].map((f) => join(root, f));

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(p);
    else yield p;
  }
}

function newestInput() {
  let newest = 0;
  for (const f of [...files(src), ...INPUTS]) newest = Math.max(newest, statSync(f).mtimeMs);
  return newest;
}

if (process.argv.includes('--if-needed') && existsSync(stamp) && statSync(stamp).mtimeMs >= newestInput()) process.exit(0);

const started = Date.now();
// A file removed from src must not live on in dist.
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', join(root, 'tsconfig.build.json')], { stdio: 'inherit' });
for (const f of files(src)) {
  if (f.endsWith('.ts') || f.endsWith('README.md')) continue;
  const target = join(dist, relative(src, f));
  mkdirSync(dirname(target), { recursive: true });
  cpSync(f, target);
}
writeFileSync(stamp, `${new Date().toISOString()}\n`);
console.log(`build: dist/ in ${Date.now() - started} ms`);
