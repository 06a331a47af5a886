/**
 * The launcher's bundle cache when pgstrap lives in an app's node_modules: the bundle goes to the app's
 * node_modules/.cache/pgstrap, and a dependency npm nested under the package (not hoisted) still resolves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheDirOf, ensureBundle, KEPT_EXTERNAL } from '../../scripts/bundle.mjs';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function write(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
}

describe('the bundle cache', () => {
  it("is the app's node_modules/.cache/pgstrap for a package inside node_modules, the project's own elsewhere", () => {
    expect(cacheDirOf('/srv/app/node_modules/pgstrap')).toBe('/srv/app/node_modules/.cache/pgstrap');
    expect(cacheDirOf('/srv/app/node_modules/@scope/tool/node_modules/pgstrap')).toBe('/srv/app/node_modules/@scope/tool/node_modules/.cache/pgstrap');
    expect(cacheDirOf('/work/pgstrap')).toBe('/work/pgstrap/node_modules/.cache/pgstrap');
  });

  it('bundles an installed package whose dependency npm nested under it, and leaves a missing one to fail only when loaded', async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bundle-'));
    dirs.push(app);
    const pkg = path.join(app, 'node_modules', 'fakepgstrap');
    write(path.join(pkg, 'package.json'), '{ "name": "fakepgstrap", "type": "module" }\n');
    write(path.join(pkg, 'node_modules', 'nested-dep', 'package.json'), '{ "name": "nested-dep", "type": "module", "exports": "./index.mjs" }\n');
    write(path.join(pkg, 'node_modules', 'nested-dep', 'index.mjs'), 'export const answer = 42;\n');
    write(path.join(pkg, 'cli.ts'), "import { answer } from 'nested-dep';\nexport const value: number = answer;\nexport const later = () => import('not-installed-anywhere');\n");
    const entry = await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg));
    expect(entry.startsWith(path.join(app, 'node_modules', '.cache', 'pgstrap') + path.sep)).toBe(true);
    expect(fs.readFileSync(entry, 'utf8')).toContain(path.join(pkg, 'node_modules', 'nested-dep', 'index.mjs'));
    const mod = (await import(pathToFileURL(entry).href)) as { value: number; later: () => Promise<unknown> };
    expect(mod.value).toBe(42);
    await expect(mod.later()).rejects.toThrow(/not-installed-anywhere/);
    // Unchanged sources: the same build.
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg))).toBe(entry);
  });

  it('inlines packages for pgstrap\'s own entries, CommonJS ones that require Node\'s modules too, and keeps the listed ones outside', async () => {
    const app = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bundle-'));
    dirs.push(app);
    const pkg = path.join(app, 'node_modules', 'fakepgstrap');
    write(path.join(pkg, 'package.json'), '{ "name": "fakepgstrap", "type": "module" }\n');
    write(path.join(pkg, 'node_modules', 'cjs-dep', 'package.json'), '{ "name": "cjs-dep", "main": "index.js" }\n');
    write(path.join(pkg, 'node_modules', 'cjs-dep', 'index.js'), "const os = require('node:os');\nexports.platform = os.platform();\n");
    // A package KEPT_EXTERNAL names (it finds its binary next to itself): imported from where it is installed.
    write(path.join(pkg, 'node_modules', 'esbuild', 'package.json'), '{ "name": "esbuild", "type": "module", "exports": "./index.mjs" }\n');
    write(path.join(pkg, 'node_modules', 'esbuild', 'index.mjs'), 'export const kept = import.meta.url;\n');
    write(path.join(pkg, 'cli.ts'), "import { platform } from 'cjs-dep';\nimport { kept } from 'esbuild';\nexport const value: string = platform;\nexport { kept };\n");
    const entry = await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg), { inline: true });
    const text = fs.readdirSync(path.dirname(entry)).map((f) => fs.readFileSync(path.join(path.dirname(entry), f), 'utf8')).join('\n');
    expect(text).not.toContain(path.join(pkg, 'node_modules', 'cjs-dep'));
    expect(text).toContain("exports.platform = os.platform()");
    const mod = (await import(pathToFileURL(entry).href)) as { value: string; kept: string };
    expect(mod.value).toBe(os.platform());
    expect(mod.kept).toBe(pathToFileURL(path.join(pkg, 'node_modules', 'esbuild', 'index.mjs')).href);
    // Its own cache entry: the same source bundled without inlining is another build.
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg))).not.toBe(entry);
    // A package stands in the manifest by its package.json (npm writes it on every install): reinstalled, it is bundled again.
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg), { inline: true })).toBe(entry);
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(path.join(pkg, 'node_modules', 'cjs-dep', 'package.json'), later, later);
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg), { inline: true })).not.toBe(entry);
  });

  it("bundles the CLI with its packages inside: only the kept ones are imported from node_modules", async () => {
    const root = path.resolve(import.meta.dirname, '../..');
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bundle-cli-'));
    dirs.push(cache);
    const entry = await ensureBundle(path.join(root, 'scripts', 'cli.ts'), cache, { inline: true });
    const dir = path.dirname(entry);
    const imported = new Set<string>();
    for (const file of fs.readdirSync(dir)) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const m of text.matchAll(/(?:from\s*|import\(\s*)"([^"]+\/node_modules\/[^"]+)"/g)) imported.add(m[1]!.split('/node_modules/').pop()!.split('/').slice(0, m[1]!.split('/node_modules/').pop()!.startsWith('@') ? 2 : 1).join('/'));
    }
    const kept = (name: string) => KEPT_EXTERNAL.some((k) => (k.endsWith('/*') ? name.startsWith(k.slice(0, -1)) : name === k));
    expect([...imported].filter((name) => !kept(name))).toEqual([]);
    // The control: the scan sees imports from node_modules (esbuild's, which rebuilds a changed config).
    expect([...imported]).toContain('esbuild');
  });
});
