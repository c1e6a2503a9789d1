import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { BuildError } from '../errors.ts';
import type { TarContent } from './tar.ts';

/** A file found under a folder: path relative to it, and where its bytes are. */
export interface HostFile {
  rel: string;
  size: number;
  content: TarContent;
  executable: boolean;
}

/**
 * Where a function's files are read from, by absolute posix path: a folder on disk (whose parents
 * may hold the node_modules it uses), or the file map of an HTTP deploy, seen as rooted at "/".
 * One interface so the asset rules and the `external` package walk are written once.
 */
export interface SourceHost {
  /** The function's folder. */
  readonly root: string;
  isDir(dir: string): Promise<boolean>;
  readText(file: string): Promise<string | undefined>;
  /** Every regular file under `dir`; folders named in `skip` are not entered. */
  list(dir: string, skip?: ReadonlySet<string>): Promise<HostFile[]>;
}

/** Walking stops past this many files: a folder that big is a mistake (a home directory, a checkout). */
const MAX_LISTED = 20_000;

export class DiskHost implements SourceHost {
  constructor(readonly root: string) {}

  async isDir(dir: string): Promise<boolean> {
    return stat(dir).then((s) => s.isDirectory(), () => false);
  }

  async readText(file: string): Promise<string | undefined> {
    return readFile(file, 'utf8').catch(() => undefined);
  }

  async list(dir: string, skip: ReadonlySet<string> = new Set()): Promise<HostFile[]> {
    const out: HostFile[] = [];
    // A package linked into node_modules (npm link, pnpm) is read where it really is.
    const top = await realpath(dir);
    const walk = async (abs: string, rel: string): Promise<void> => {
      for (const e of await readdir(abs, { withFileTypes: true })) {
        const childAbs = path.join(abs, e.name);
        const childRel = rel === '' ? e.name : `${rel}/${e.name}`;
        if (e.isDirectory()) {
          if (!skip.has(e.name)) await walk(childAbs, childRel);
        } else if (e.isFile()) {
          const s = await lstat(childAbs);
          out.push({ rel: childRel, size: s.size, content: { hostPath: childAbs, size: s.size }, executable: (s.mode & 0o111) !== 0 });
          if (out.length > MAX_LISTED) throw new BuildError(`${dir} holds more than ${MAX_LISTED} files: deploy a smaller folder`);
        }
        // Symlinks inside a folder (node_modules/.bin) are skipped: a layer gets plain files only.
      }
    };
    await walk(top, '');
    return out;
  }
}

/** The files of an HTTP deploy, relative path → bytes, seen as a tree rooted at "/". */
export class MapHost implements SourceHost {
  readonly root = '/';

  constructor(private readonly files: ReadonlyMap<string, Uint8Array>) {}

  async isDir(dir: string): Promise<boolean> {
    const prefix = `${dir.replace(/^\/+/, '').replace(/\/+$/, '')}/`;
    if (prefix === '/') return true;
    for (const p of this.files.keys()) if (p.startsWith(prefix)) return true;
    return false;
  }

  async readText(file: string): Promise<string | undefined> {
    const bytes = this.files.get(file.replace(/^\/+/, ''));
    return bytes === undefined ? undefined : Buffer.from(bytes).toString('utf8');
  }

  async list(dir: string, skip: ReadonlySet<string> = new Set()): Promise<HostFile[]> {
    const base = dir.replace(/^\/+/, '').replace(/\/+$/, '');
    const prefix = base === '' ? '' : `${base}/`;
    const out: HostFile[] = [];
    for (const [p, bytes] of this.files) {
      if (!p.startsWith(prefix)) continue;
      const rel = p.slice(prefix.length);
      if (rel.split('/').slice(0, -1).some((s) => skip.has(s))) continue;
      out.push({ rel, size: bytes.byteLength, content: bytes, executable: false });
    }
    return out;
  }
}
