import { chmod, chown, lchown, link, lstat, lutimes, mkdir, open, rm, symlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import type { Header } from 'tar-stream';
import { entryPath, resolveDirInRoot } from './paths.ts';
import { mknod, setOpaque } from './special-files.ts';

const WHITEOUT = '.wh.';
const OPAQUE = '.wh..wh..opq';

/** Directory metadata is applied after the whole layer is written (writing children changes it). */
export interface PendingDir {
  path: string;
  header: Header;
}

const isRoot = process.getuid?.() === 0;

/**
 * Writes one tar entry under `root`, turning OCI whiteouts into their overlayfs form (see
 * containerd's OverlayConvertWhiteout): `.wh.<name>` → char device 0:0 named <name>,
 * `.wh..wh..opq` → xattr trusted.overlay.opaque=y on the directory.
 * The final path component is never followed (an existing entry is replaced, not written
 * through), and parents are resolved inside `root` (see resolveDirInRoot).
 */
export async function applyEntry(root: string, header: Header, body: AsyncIterable<unknown>, dirs: PendingDir[]): Promise<void> {
  const rel = entryPath(header.name);
  if (rel === '') return; // "./": the layer root itself, which we own
  const parent = await resolveDirInRoot(root, path.posix.dirname(rel), true);
  const base = path.posix.basename(rel);

  if (base === OPAQUE) return setOpaque(parent);
  if (base.startsWith(`${WHITEOUT}${WHITEOUT}`)) return; // other aufs bookkeeping (.wh..wh.plnk): meaningless to overlayfs
  if (base.startsWith(WHITEOUT)) {
    const hidden = base.slice(WHITEOUT.length);
    if (hidden === '' || hidden === '.' || hidden === '..') throw new Error(`bad whiteout ${header.name}`);
    const target = path.join(parent, hidden);
    await rm(target, { recursive: true, force: true });
    return mknod(target, 'c', 0, 0);
  }

  const target = path.join(parent, base);
  const mode = (header.mode ?? 0o644) & 0o7777;
  switch (header.type) {
    case 'directory': {
      const st = await lstat(target).catch(() => undefined);
      if (!st?.isDirectory()) {
        if (st) await rm(target, { recursive: true, force: true });
        await mkdir(target, { mode: 0o700 });
      }
      dirs.push({ path: target, header });
      return;
    }
    case 'file':
    case 'contiguous-file':
      await rm(target, { recursive: true, force: true });
      await writeBody(target, body);
      await setOwner(target, header);
      await chmod(target, mode); // after chown, which clears setuid/setgid bits
      await utimes(target, mtimeOf(header), mtimeOf(header));
      return;
    case 'symlink':
      await rm(target, { recursive: true, force: true });
      // Kept verbatim: an absolute target means the container's "/", which is this layer's root
      // only once mounted. We never follow it here.
      await symlink(header.linkname ?? '', target);
      await setOwner(target, header, true);
      await lutimes(target, mtimeOf(header), mtimeOf(header));
      return;
    case 'link': {
      const linkRel = entryPath(header.linkname ?? '');
      if (linkRel === '') throw new Error(`hardlink ${header.name} has no target`);
      const source = path.join(await resolveDirInRoot(root, path.posix.dirname(linkRel), false), path.posix.basename(linkRel));
      const st = await lstat(source).catch(() => undefined);
      if (!st || st.isDirectory()) throw new Error(`hardlink ${header.name} → ${header.linkname}: no such file in the layer`);
      if (source === target) return;
      await rm(target, { recursive: true, force: true });
      await link(source, target); // link(2) does not follow a symlink source
      return;
    }
    case 'character-device':
    case 'block-device':
    case 'fifo':
      await rm(target, { recursive: true, force: true });
      await mknod(target, header.type === 'fifo' ? 'p' : header.type === 'block-device' ? 'b' : 'c', header.devmajor ?? 0, header.devminor ?? 0, mode);
      await setOwner(target, header);
      return;
    default:
      return; // unknown entry kinds carry nothing overlayfs can use
  }
}

export async function finishDirs(dirs: readonly PendingDir[]): Promise<void> {
  for (const dir of [...dirs].reverse()) {
    await setOwner(dir.path, dir.header);
    await chmod(dir.path, (dir.header.mode ?? 0o755) & 0o7777);
    await utimes(dir.path, mtimeOf(dir.header), mtimeOf(dir.header));
  }
}

async function writeBody(target: string, body: AsyncIterable<unknown>): Promise<void> {
  // 'wx' = O_CREAT|O_EXCL: fails rather than follows if something appeared at the path.
  const fh = await open(target, 'wx', 0o600);
  try {
    for await (const chunk of body) await fh.write(chunk as Uint8Array);
  } finally {
    await fh.close();
  }
}

async function setOwner(target: string, header: Header, isLink = false): Promise<void> {
  // Only root can give files away; unprivileged unpacking (tests, tools) keeps the caller's ids.
  if (!isRoot) return;
  const uid = header.uid ?? 0;
  const gid = header.gid ?? 0;
  await (isLink ? lchown(target, uid, gid) : chown(target, uid, gid));
}

function mtimeOf(header: Header): Date {
  return header.mtime ?? new Date(0);
}
