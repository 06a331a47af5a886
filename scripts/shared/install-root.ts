/** Where pgstrap itself is installed, whether this code runs from its sources or from the bundled CLI. */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The folder holding scripts/pgstrap.mjs: what the launcher recorded, else found by walking up from this module
 * (a bundle in this repository's node_modules/.cache; an app's cache folder is not below the package).
 */
export function installRoot(): string {
  if (cached) return cached;
  const recorded = (globalThis as Record<symbol, unknown>)[Symbol.for('pgstrap.installRoot')];
  if (typeof recorded === 'string') return (cached = recorded);
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'scripts', 'pgstrap.mjs'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`pgstrap's install folder is not above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
  cached = dir;
  return dir;
}
