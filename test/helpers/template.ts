import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';

/**
 * Images dir holding the base layer, built once per test run by test/global-setup.ts. Keyed by
 * the checkout, so two checkouts testing at once on one machine never share a half-built template.
 */
export const TEMPLATE_IMAGES_DIR = path.join(
  os.tmpdir(),
  `hearth-test-template-${createHash('sha256').update(process.cwd()).digest('hex').slice(0, 8)}`,
  'images',
);
