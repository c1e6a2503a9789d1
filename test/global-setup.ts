import { ImageStore } from '../src/image/index.ts';
import { AGENT_ENTRY } from '../src/runtime/index.ts';
import { TEMPLATE_IMAGES_DIR } from './helpers/template.ts';

/**
 * Builds the runtime base layer once for the whole run (it holds the ~100 MB node binary);
 * each test's Hearth hard-links it instead of rebuilding. The store's own cache makes this a
 * no-op when the agent and node are unchanged since the last run.
 */
export default async function setup(): Promise<void> {
  const store = new ImageStore({ root: TEMPLATE_IMAGES_DIR, agentEntry: AGENT_ENTRY });
  await store.init();
  await store.ensureBaseLayer();
}
