import { HearthError } from '../errors/index.ts';
import type { FunctionCatalog, FunctionVersion } from '../catalog/index.ts';

/** The version an invocation will run: the pinned one, else the current one; 404 `not_found` if absent. */
export async function resolveFunction(catalog: FunctionCatalog, name: string, version?: number): Promise<FunctionVersion> {
  const fn = version === undefined ? await catalog.get(name) : await catalog.getVersion(name, version);
  if (!fn) {
    throw new HearthError('not_found', version === undefined
      ? `function ${name} does not exist`
      : `version ${version} of function ${name} does not exist`);
  }
  return fn;
}
