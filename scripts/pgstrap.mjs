#!/usr/bin/env node
/**
 * The launcher every npm script calls: it runs scripts/cli.ts from one bundled file, rebuilt whenever a
 * source changes. Loading ~80 TypeScript modules through tsx's hooks costs about half a second per command,
 * longer than a warm setup or doctor takes in total; the packages are bundled in too, as resolving and loading
 * their ~350 files (execa alone has 121) cost a warm setup about 140 ms more.
 */
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cacheDirOf, ensureBundle } from './bundle.mjs';

// pg asks, when it loads, whether it runs in a Cloudflare Worker: without `navigator` (Node before 21) it
// touches the global Response, and loading undici for it cost more than a warm command's own work. Node 21+
// defines navigator itself, with this userAgent.
if (globalThis.navigator === undefined) {
  Object.defineProperty(globalThis, 'navigator', { value: { userAgent: `Node.js/${process.versions.node.split('.')[0]}` }, configurable: true });
}

// The package's folder: this repository, or `<app>/node_modules/pgstrap` (npm's bin link is a symlink, which
// Node resolves before import.meta.url). The bundle lives in a cache folder elsewhere, so it learns it here.
const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
globalThis[Symbol.for('pgstrap.installRoot')] = root;
const bundle = await ensureBundle(path.join(root, 'scripts', 'cli.ts'), cacheDirOf(root), { inline: true });
const { main } = await import(pathToFileURL(bundle).href);
process.exitCode = await main(process.argv.slice(2));
