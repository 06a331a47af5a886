/**
 * The launcher's bundle cache when pgstrap lives in an app's node_modules: the bundle goes to the app's
 * node_modules/.cache/pgstrap, and a dependency npm nested under the package (not hoisted) still resolves.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { cacheDirOf, ensureBundle, KEPT_EXTERNAL, loadBundle, UNSAFE_CACHE } from '../../scripts/bundle.mjs';
import { relocationDir } from '../../scripts/server/placement.ts';

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
    // A package KEPT_EXTERNAL names (it finds its binary next to itself): required from where it is installed.
    write(path.join(pkg, 'node_modules', 'esbuild', 'package.json'), '{ "name": "esbuild", "main": "index.js" }\n');
    write(path.join(pkg, 'node_modules', 'esbuild', 'index.js'), 'exports.kept = __filename;\n');
    const bundler = JSON.stringify(path.join(ROOT, 'scripts', 'bundle.mjs'));
    write(path.join(pkg, 'cli.ts'), `import { platform } from 'cjs-dep';\nimport { kept } from 'esbuild';\nimport { importModule } from ${bundler};\nexport const value: string = platform;\nexport { kept };\nexport const later = () => importModule('node:os');\nexport const raw = () => import('node:os');\n`);
    const entry = await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg), { inline: true, readable: true });
    expect(path.basename(entry)).toBe('entry.cjs');
    const text = fs.readFileSync(entry, 'utf8');
    expect(text).not.toContain(path.join(pkg, 'node_modules', 'cjs-dep'));
    expect(text).toMatch(/exports\d*\.platform = os\.platform\(\)/);
    const hostImports: string[] = [];
    const mod = loadBundle(entry, { profile: 'test', importer: (specifier) => (hostImports.push(specifier), import(specifier)) }) as {
      value: string;
      kept: string;
      later: () => Promise<{ platform: () => string }>;
      raw: () => Promise<unknown>;
    };
    expect(mod.value).toBe(os.platform());
    expect(mod.kept).toBe(path.join(pkg, 'node_modules', 'esbuild', 'index.js'));
    // import() inside the bundle goes through importModule to the importer the loader was given; a bare one has no host.
    expect((await mod.later()).platform()).toBe(os.platform());
    expect(hostImports).toEqual(['node:os']);
    await expect(mod.raw()).rejects.toMatchObject({ code: expect.stringMatching(/^ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING/) });
    // Its own cache entry: the same source bundled without inlining is another build.
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg))).not.toBe(entry);
    // A package stands in the manifest by its package.json (npm writes it on every install): reinstalled, it is bundled again.
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg), { inline: true, readable: true })).toBe(entry);
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(path.join(pkg, 'node_modules', 'cjs-dep', 'package.json'), later, later);
    expect(await ensureBundle(path.join(pkg, 'cli.ts'), cacheDirOf(pkg), { inline: true, readable: true })).not.toBe(entry);
  });

  it("bundles the CLI with its packages inside: only the kept ones come from node_modules, none an ES module by require, and import() only through importModule", async () => {
    const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bundle-cli-'));
    dirs.push(cache);
    // Unminified, to be read: the same modules and calls as the minified one the launcher runs.
    const entry = await ensureBundle(path.join(ROOT, 'scripts', 'cli.ts'), cache, { inline: true, readable: true });
    const text = fs.readFileSync(entry, 'utf8');
    const packageOf = (file: string) => {
      const rest = file.split('/node_modules/').pop()!.split('/');
      return rest.slice(0, rest[0]!.startsWith('@') ? 2 : 1).join('/');
    };
    const kept = (name: string) => KEPT_EXTERNAL.some((k) => (k.endsWith('/*') ? name.startsWith(k.slice(0, -1)) : name === k));
    const required = [...text.matchAll(/require\("([^"]+\/node_modules\/[^"]+)"\)/g)].map((m) => m[1]!);
    expect(required.map(packageOf).filter((name) => !kept(name))).toEqual([]);
    // A file Node loads as an ES module cannot be required (Node 20): such a package goes through importModule.
    const isEsm = (file: string) => {
      if (file.endsWith('.mjs')) return true;
      let dir = path.dirname(file);
      while (!fs.existsSync(path.join(dir, 'package.json'))) dir = path.dirname(dir);
      return JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')).type === 'module';
    };
    expect(required.filter(isEsm)).toEqual([]);
    // The control: the scan sees what is required from node_modules (cosmiconfig's js-yaml).
    expect(required.map(packageOf)).toContain('js-yaml');
    // Every import() is importModule's own, or in cosmiconfig's loaders, which config/load.ts replaces for every extension.
    const regions = text.split(/^\/\/ (\S+)$/m);
    const withImport: string[] = [];
    const code = (region: string) => region.split('\n').filter((line) => !/^\s*(\/\/|\/?\*)/.test(line)).join('\n');
    for (let i = 1; i < regions.length; i += 2) if (/[^\w.$]import\(/.test(code(regions[i + 1]!))) withImport.push(regions[i]!.replace(/^(\.\.\/)+/, ''));
    expect(withImport.sort()).toEqual(['bundle.mjs', 'node_modules/cosmiconfig/dist/loaders.js']);
  });

  it('keeps a code cache per profile beside the bundle: written by a run that had none, then used as it is', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-code-cache-'));
    dirs.push(dir);
    const bundle = path.join(dir, 'entry.cjs');
    write(bundle, 'exports.main = function main(n) { let s = 0; for (let i = 0; i < n; i++) s += i; return s; };\n');
    const script = `import { loadBundle } from ${JSON.stringify(pathToFileURL(path.join(ROOT, 'scripts', 'bundle.mjs')).href)};
      process.stdout.write(String(loadBundle(${JSON.stringify(bundle)}, { profile: 'db:seed', importer: (s) => import(s) }).main(10)));`;
    const run = () => spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
    expect(run().stdout).toBe('45');
    const caches = fs.readdirSync(dir).filter((f) => f.endsWith('.v8'));
    expect(caches).toEqual([`code-db-seed-${process.arch}-${process.versions.v8}.v8`]);
    const written = fs.statSync(path.join(dir, caches[0]!)).mtimeMs;
    expect(run().stdout).toBe('45');
    // Accepted by V8, so not written again (a rejected one would be).
    expect(fs.statSync(path.join(dir, caches[0]!)).mtimeMs).toBe(written);
    // A cache cut short (or of another build) is rejected, the code compiled from source, and a good one written.
    const cache = path.join(dir, caches[0]!);
    fs.writeFileSync(cache, fs.readFileSync(cache).subarray(0, 64));
    expect(run().stdout).toBe('45');
    expect(fs.statSync(cache).size).toBeGreaterThan(64);
    expect(fs.readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
  });
});

const ROOT = path.resolve(import.meta.dirname, '../..');
const isRoot = process.getuid?.() === 0;

/**
 * Where node_modules/.cache cannot be made, bundles go to `$TMPDIR/pgstrap-cache-<uid>`, a folder any local
 * user could have made first: a manifest there names the code the next command imports.
 */
describe('the fallback cache in the temporary directory', () => {
  function scratch(): { tmp: string; unwritable: string; base: string; entry: string } {
    const top = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bundle-tmp-'));
    dirs.push(top);
    const tmp = path.join(top, 'tmp');
    fs.mkdirSync(tmp, { mode: 0o777 });
    fs.chmodSync(tmp, 0o1777);
    // A cache folder under a regular file cannot be made, whoever runs (root passes the permission checks).
    write(path.join(top, 'not-a-folder'), '');
    write(path.join(top, 'src', 'entry.ts'), 'export const value: number = 7;\n');
    return { tmp, unwritable: path.join(top, 'not-a-folder', 'cache'), base: path.join(tmp, `pgstrap-cache-${process.getuid?.() ?? 'user'}`), entry: path.join(top, 'src', 'entry.ts') };
  }

  async function bundleWithTmp(tmp: string, entry: string, cacheDir: string): Promise<string> {
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = tmp;
    try {
      return await ensureBundle(entry, cacheDir);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
  }

  it('is made private (0700) and used when it is the user\'s own', async () => {
    const { tmp, unwritable, base, entry } = scratch();
    const built = await bundleWithTmp(tmp, entry, unwritable);
    expect(built.startsWith(base + path.sep)).toBe(true);
    expect(fs.lstatSync(base).mode & 0o777).toBe(0o700);
    expect(((await import(pathToFileURL(built).href)) as { value: number }).value).toBe(7);
    // Unchanged: the same build, from the same folder.
    expect(await bundleWithTmp(tmp, entry, unwritable)).toBe(built);
  });

  const planted: Array<[string, (base: string) => void, RegExp, boolean]> = [
    ['open to others', (base) => {
      fs.mkdirSync(base);
      fs.chmodSync(base, 0o777);
    }, /is open to group or others \(mode 777\)/, true],
    ['a symbolic link to a folder', (base) => fs.symlinkSync(fs.mkdtempSync(path.join(path.dirname(base), 'elsewhere-')), base), /is not a folder \(a symbolic link\?\)/, true],
    ["another user's", (base) => {
      fs.mkdirSync(base, { mode: 0o700 });
      fs.chownSync(base, 65534, 65534);
    }, /belongs to uid 65534, not to this user/, isRoot],
  ];
  for (const [what, plant, said, possible] of planted) {
    it.skipIf(!possible)(`is refused when it is ${what}, and nothing is built or run from it`, async () => {
      const { tmp, unwritable, base, entry } = scratch();
      plant(base);
      const before = fs.readdirSync(fs.realpathSync(base)).length;
      const error = await bundleWithTmp(tmp, entry, unwritable).then(
        () => undefined,
        (e: unknown) => e as Error & { code?: string; remedy?: string },
      );
      expect(error?.code).toBe(UNSAFE_CACHE);
      expect(error?.message).toMatch(said);
      expect(error?.message).toContain(base);
      expect(error?.remedy).toMatch(/TMPDIR/);
      expect(fs.readdirSync(fs.realpathSync(base)).length).toBe(before);
    });
  }

  it.skipIf(!isRoot)("the CLI, loading a project's TypeScript config, refuses another user's folder with exit 3 and runs none of it", () => {
    const { tmp, base } = scratch();
    const project = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bundle-project-'));
    // As root, env works out where the server user's state would go (the project is 0700): that folder too.
    dirs.push(project, relocationDir(project));
    // node_modules is a file: its .cache cannot be made, so the config's bundle would go to the temporary directory.
    write(path.join(project, 'node_modules'), '');
    write(path.join(project, 'package.json'), '{ "name": "app", "private": true, "type": "module" }\n');
    write(path.join(project, 'extensions.config.ts'), "export default { databases: ['app'] as string[] };\n");
    // What another user left there: where this project's config build would go, a manifest naming their own code
    // as that build (the folder and file names are the ones bundle.mjs derives from the project's paths).
    const sha = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 8);
    const config = path.join(project, 'extensions.config.ts');
    const folder = path.join(base, sha(cacheDirOf(project)));
    const ran = path.join(project, 'ran');
    const evil = path.join(folder, 'evil.mjs');
    write(evil, `import fs from 'node:fs'; fs.writeFileSync(${JSON.stringify(ran)}, 'yes'); export default { databases: ['evil'] };\n`);
    write(path.join(folder, `extensions.config-${sha(config)}.json`), JSON.stringify({ entry: evil, inputs: [] }));
    for (const dir of [base, folder]) fs.chmodSync(dir, 0o755);
    for (const file of [base, folder, evil]) fs.chownSync(file, 65534, 65534);
    const cli = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'pgstrap.mjs'), 'env'], { cwd: project, env: { ...process.env, TMPDIR: tmp, PGSTRAP_URL: '' }, encoding: 'utf8' });
    expect(fs.existsSync(ran), 'the planted build ran').toBe(false);
    expect(cli.stderr).toMatch(/error \[cache\.unsafe\] the bundle cache .*pgstrap-cache-0 belongs to uid 65534/);
    expect(cli.stderr).toMatch(/fix: .*TMPDIR/);
    expect(cli.status).toBe(3);
    // The control: the same project with a cache folder of its own loads the config (and env then says what it can).
    fs.rmSync(base, { recursive: true, force: true });
    const ok = spawnSync(process.execPath, [path.join(ROOT, 'scripts', 'pgstrap.mjs'), 'env', '--json'], { cwd: project, env: { ...process.env, TMPDIR: tmp, PGSTRAP_URL: '' }, encoding: 'utf8' });
    expect(ok.stderr).not.toMatch(/cache\.unsafe/);
    expect(ok.stdout).toMatch(/"PGDATABASE": "app"/);
    expect(fs.lstatSync(base).uid).toBe(0);
  });
});
