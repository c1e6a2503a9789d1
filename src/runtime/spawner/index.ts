/** A helper process that starts Hearth's long-lived children (see spawner.ts for why). */
export { ProcessSpawner, SpawnedProcess } from './spawner.ts';
