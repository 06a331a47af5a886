#!/usr/bin/env node
/**
 * The launcher every npm script calls: it runs scripts/cli.ts from one bundled file, rebuilt whenever a
 * source changes. Loading ~80 TypeScript modules through tsx's hooks costs about half a second per command,
 * longer than a warm setup or doctor takes in total; the packages are bundled in too, as resolving and loading
 * their ~350 files (execa alone has 121) cost a warm setup about 140 ms more.
 */
import module from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDirOf, ensureBundle, loadBundle, UNSAFE_CACHE } from './bundle.mjs';

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
// The CLI's bundle keeps its own code cache (loadBundle); Node 22.1+'s compile cache serves what it imports from
// outside it: a project's TypeScript config (bundled as an ES module) and the KEPT_EXTERNAL packages.
const cacheDir = cacheDirOf(root);
module.enableCompileCache?.(path.join(cacheDir, 'v8'));
let bundle;
try {
  bundle = await ensureBundle(path.join(root, 'scripts', 'cli.ts'), cacheDir, { inline: true });
} catch (error) {
  if (error?.code !== UNSAFE_CACHE) throw error;
  // Said as the CLI says its errors (shared/render-error.ts), which is not loaded yet; exit 3: the environment.
  process.stderr.write(`error [cache.unsafe] ${error.message}\nfix: ${error.remedy}\n`);
  process.exit(3);
}
const argv = process.argv.slice(2);
// Each command keeps its own code cache: the functions its run compiled.
const { main } = loadBundle(bundle, { profile: argv[0] ?? 'help' });
process.exitCode = await main(argv);
