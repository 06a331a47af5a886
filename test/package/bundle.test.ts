/**
 * The launcher's bundle cache when pgstrap lives in an app's node_modules: the bundle goes to the app's
 * node_modules/.cache/pgstrap, and a dependency npm nested under the package (not hoisted) still resolves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { cacheDirOf, ensureBundle } from '../../scripts/bundle.mjs';

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
});
