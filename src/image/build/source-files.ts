import path from 'node:path';
import { BuildError } from '../errors.ts';
import type { DeployFileContent } from '../types.ts';

/** A deploy may not carry more files than this (node_modules of `external` packages included). */
export const MAX_FILES = 5000;

/**
 * A user-supplied relative path, normalized ("./a//b.ts" → "a/b.ts"). Refused: absolute paths,
 * any ".." segment (even one that would stay inside), backslashes, NUL. These reach the file
 * system of the build host, so the rule is strict and simple rather than clever.
 */
export function userPath(p: string, what = 'path'): string {
  if (typeof p !== 'string' || p === '') throw new BuildError(`${what} must be a non-empty string`);
  if (p.includes('\0') || p.includes('\\')) throw new BuildError(`${what} ${JSON.stringify(p)} contains a forbidden character`);
  if (p.startsWith('/')) throw new BuildError(`${what} ${JSON.stringify(p)} must be relative`);
  if (p.split('/').includes('..')) throw new BuildError(`${what} ${JSON.stringify(p)} must not contain ".."`);
  const normalized = path.posix.normalize(p).replace(/\/+$/, '');
  if (normalized === '.' || normalized === '') throw new BuildError(`${what} ${JSON.stringify(p)} names no file`);
  return normalized;
}

/** Base64 as Buffer.from would otherwise read leniently: a typo must not become silent garbage. */
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/**
 * Validates a deploy's file map (relative, unique after normalization, not too many) and decodes
 * it: a string is UTF-8 text, `{ base64 }` any bytes.
 */
export function validateFiles(files: Record<string, DeployFileContent>): Map<string, Uint8Array> {
  const entries = Object.entries(files);
  if (entries.length === 0) throw new BuildError('no files to deploy');
  if (entries.length > MAX_FILES) throw new BuildError(`too many files: ${entries.length} (at most ${MAX_FILES})`);
  const out = new Map<string, Uint8Array>();
  for (const [name, content] of entries) {
    const p = userPath(name, 'file path');
    if (out.has(p)) throw new BuildError(`file ${JSON.stringify(name)} is given twice`);
    out.set(p, decodeFile(name, content));
  }
  // "a" and "a/b" cannot both be files.
  for (const p of out.keys()) {
    for (let i = p.indexOf('/'); i !== -1; i = p.indexOf('/', i + 1)) {
      if (out.has(p.slice(0, i))) throw new BuildError(`${JSON.stringify(p.slice(0, i))} is both a file and a directory`);
    }
  }
  return out;
}

function decodeFile(name: string, content: unknown): Uint8Array {
  if (typeof content === 'string') return Buffer.from(content, 'utf8');
  const b64 = typeof content === 'object' && content !== null ? (content as { base64?: unknown }).base64 : undefined;
  if (typeof b64 !== 'string' || b64.length % 4 !== 0 || !BASE64.test(b64)) {
    throw new BuildError(`file ${JSON.stringify(name)} must be a string (UTF-8 text) or {"base64": "…"} (padded standard base64)`);
  }
  return Buffer.from(b64, 'base64');
}

/** Looked for, in order, when neither the deploy nor the config names an entry. */
export const DEFAULT_ENTRIES = ['index.ts', 'index.mts', 'index.js', 'index.mjs', 'handler.ts', 'handler.js'] as const;
