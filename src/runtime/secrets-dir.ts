/**
 * Secret files for one container: written to a tmpfs dir on the host (never to the data dir's
 * disk), owned by the function's uid as the host sees it (`owner`: its user-namespace mapping) with mode 0400, and bind-mounted read-only at /run/secrets.
 * Only the container that asked for them gets the mount; the dir goes when the container does.
 */
import { chown, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { withMount, type SpecOpt } from './spec/index.ts';

/** /run is tmpfs on normal hosts; kept apart from the runc root, whose entries runc treats as containers. */
const SECRETS_BASE = '/run/hearth-secrets';
export const SECRETS_MOUNT = '/run/secrets';
const NAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

export function secretsParent(instance: string): string {
  return join(SECRETS_BASE, instance);
}

/** Writes the files and returns the spec option that mounts them. */
export async function prepareSecrets(
  instance: string,
  id: string,
  secrets: Record<string, string>,
  owner: { uid: number; gid: number },
): Promise<{ dir: string; opt: SpecOpt }> {
  for (const name of Object.keys(secrets)) {
    if (!NAME_RE.test(name)) throw new RangeError(`invalid secret name ${JSON.stringify(name)}`);
  }
  await mkdir(secretsParent(instance), { recursive: true, mode: 0o711 });
  const dir = join(secretsParent(instance), id);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { mode: 0o700 });
  for (const [name, value] of Object.entries(secrets)) {
    const file = join(dir, name);
    await writeFile(file, value, { mode: 0o400 });
    await chown(file, owner.uid, owner.gid);
  }
  await chown(dir, owner.uid, owner.gid);
  const opt = withMount({ destination: SECRETS_MOUNT, type: 'bind', source: dir, options: ['rbind', 'ro', 'nosuid', 'nodev', 'noexec'] });
  return { dir, opt };
}

export async function removeSecrets(dir: string): Promise<void> {
  await rm(dir, { recursive: true, force: true });
}

/** At start: a crashed predecessor's secret dirs. */
export async function removeAllSecrets(instance: string): Promise<void> {
  await rm(secretsParent(instance), { recursive: true, force: true });
}
