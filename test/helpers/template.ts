import os from 'node:os';
import path from 'node:path';

/** Images dir holding the base layer, built once per test run by test/global-setup.ts. */
export const TEMPLATE_IMAGES_DIR = path.join(os.tmpdir(), 'hearth-test-template', 'images');
