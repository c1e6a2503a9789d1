import { access, mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ANNOTATION, MEDIA_TYPE } from '../oci.ts';
import type { Descriptor, ImageIndex } from '../oci.ts';
import { isNotFound } from './content-store.ts';
import { writeFileAtomic } from './atomic.ts';

/**
 * One lock per index.json path for the whole process: two stores opened on the same root must
 * still not interleave their read-modify-write of the index.
 */
const indexLocks = new Map<string, Promise<unknown>>();

function serialized<T>(key: string, task: () => Promise<T>): Promise<T> {
  const previous = indexLocks.get(key) ?? Promise.resolve();
  const run = previous.then(task, task);
  const tail = run.catch(() => undefined);
  indexLocks.set(key, tail);
  void tail.then(() => {
    if (indexLocks.get(key) === tail) indexLocks.delete(key);
  });
  return run;
}

/**
 * The OCI image layout's top-level files (`oci-layout`, `index.json`). Blobs are the content
 * store's business; this file only knows which manifests are named what.
 */
export class OciLayout {
  readonly dir: string;
  readonly #indexPath: string;

  constructor(dir: string) {
    this.dir = dir;
    this.#indexPath = path.join(dir, 'index.json');
  }

  get blobsDir(): string {
    return path.join(this.dir, 'blobs', 'sha256');
  }

  /** Creates the layout; never overwrites an existing index (it is the only record of names). */
  async init(): Promise<void> {
    await mkdir(this.blobsDir, { recursive: true });
    const layoutFile = path.join(this.dir, 'oci-layout');
    if (!(await exists(layoutFile))) {
      await writeFileAtomic(layoutFile, JSON.stringify({ imageLayoutVersion: '1.0.0' }));
    }
    await serialized(this.#indexPath, async () => {
      try {
        await this.readIndex();
      } catch (err) {
        if (!isNotFound(err)) throw err;
        await writeFileAtomic(this.#indexPath, JSON.stringify(emptyIndex(), null, 2));
      }
    });
  }

  async readIndex(): Promise<ImageIndex> {
    const parsed = JSON.parse(await readFile(this.#indexPath, 'utf8')) as Partial<ImageIndex>;
    if (parsed.schemaVersion !== 2 || !Array.isArray(parsed.manifests)) {
      throw new Error(`${this.#indexPath} is not an OCI image index`);
    }
    return parsed as ImageIndex;
  }

  /**
   * Records a function's manifest. A name keeps every manifest it ever had (one per deploy);
   * re-recording a known (name, digest) pair moves it to the end so the last entry for a name
   * is always the latest deploy. Only that latest entry carries the ref name: tools such as
   * skopeo (`oci:<dir>:<name>`) take the first entry with a matching name.
   */
  async addManifest(name: string, manifest: Descriptor): Promise<void> {
    await serialized(this.#indexPath, async () => {
      const index = await this.readIndex();
      const entry: Descriptor = {
        mediaType: manifest.mediaType,
        digest: manifest.digest,
        size: manifest.size,
        annotations: { [ANNOTATION.refName]: name, [ANNOTATION.function]: name },
      };
      index.manifests = index.manifests
        .filter((m) => !(m.digest === entry.digest && m.annotations?.[ANNOTATION.function] === name))
        .map((m) => (m.annotations?.[ANNOTATION.refName] === name ? withoutRefName(m) : m));
      index.manifests.push(entry);
      await writeFileAtomic(this.#indexPath, JSON.stringify(index, null, 2));
    });
  }

  /** Drops index entries whose manifest is not in `keep` (garbage collection); returns how many went. */
  async retain(keep: ReadonlySet<string>): Promise<number> {
    return serialized(this.#indexPath, async () => {
      const index = await this.readIndex();
      const before = index.manifests.length;
      index.manifests = index.manifests.filter((m) => keep.has(m.digest));
      if (index.manifests.length !== before) await writeFileAtomic(this.#indexPath, JSON.stringify(index, null, 2));
      return before - index.manifests.length;
    });
  }
}

function withoutRefName(m: Descriptor): Descriptor {
  const { [ANNOTATION.refName]: _dropped, ...annotations } = m.annotations ?? {};
  return { ...m, annotations };
}

function emptyIndex(): ImageIndex {
  return { schemaVersion: 2, mediaType: MEDIA_TYPE.index, manifests: [] };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch (err) {
    if (isNotFound(err)) return false;
    throw err;
  }
}
