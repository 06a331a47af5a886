/**
 * What `import … from 'pgstrap/testing'` loads: plain JavaScript, so an app's test runner imports it from
 * node_modules without a TypeScript loader. It bundles scripts/testing/index.ts as the launcher bundles the
 * CLI (rebuilt only when a source changes) and re-exports it; its types are in testing.d.mts.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDirOf, ensureBundle, loadBundle } from './bundle.mjs';

const root = path.dirname(path.dirname(fileURLToPath(import.meta.url)));
globalThis[Symbol.for('pgstrap.installRoot')] ??= root;
const bundle = await ensureBundle(path.join(root, 'scripts', 'testing', 'index.ts'), cacheDirOf(root), { inline: true });
const testing = loadBundle(bundle, { profile: 'testing' });

export const { createTestDatabase, prepareTestTemplate, pruneTestDatabasesOf } = testing;
