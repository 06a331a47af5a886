#!/usr/bin/env node
/**
 * Test server builder: Debian 13 ("trixie")'s postgresql-17 with its packaged extensions, unpacked into a
 * private prefix on any Debian-like amd64 machine without touching its libraries or apt configuration.
 *
 * apt-get reads a private sources list, state and cache (the trixie suite of the machine's own Debian mirror),
 * downloads the PostgreSQL packages plus the libraries their ELF files need (the closure of `readelf -d` NEEDED,
 * libc6 and its loader included), and `dpkg-deb -x` unpacks them into one prefix. patchelf then points each
 * program at the prefix's loader and adds the prefix's library folders to the RUNPATH of every ELF file that
 * needs more than libc (keeping `$ORIGIN` entries). PostgreSQL finds its share and lib folders relative to its binary.
 *
 * The prefix is cached under the cache root, named by the versions of every package in it; runs are serialised
 * with flock, so concurrent test workers build once. Prints one JSON line:
 * `{ binDir, version, prefix, packages, libraryFolders, patchedElfFiles, built, seconds }`.
 *
 * Usage: node test/servers/trixie-postgres.mjs [--cache DIR] [--refresh]
 * Env: PGSTRAP_TEST_CACHE (cache root; default /var/cache/pgstrap-test, else node_modules/.cache/pgstrap-test).
 */
import { createHash } from 'node:crypto';
import { $, fs, minimist, os, path } from 'zx';

/** The PostgreSQL packages: the server, its client tools (pg_config) and the extensions trixie packages for 17. */
export const ROOT_PACKAGES = [
  'postgresql-17',
  'postgresql-client-17',
  'postgresql-17-pgvector',
  'postgresql-17-cron',
  'postgresql-17-wal2json',
  'postgresql-17-postgis-3',
  'postgresql-17-postgis-3-scripts',
  'postgresql-17-h3',
  'postgresql-17-timescaledb',
];

const SUITE = 'trixie';
const ARCH = 'amd64';
const LOADER = 'ld-linux-x86-64.so.2';
// Always on the RUNPATH; other folders (usr/lib for armadillo, blas/ for what update-alternatives would link) are
// added when they hold a soname some file needs.
const LIB_DIRS = ['usr/lib/x86_64-linux-gnu', 'lib/x86_64-linux-gnu'];
const BIN_DIR = 'usr/lib/postgresql/17/bin';
// Part of the cache key: bump it when the way a prefix is made changes.
const RECIPE = 4;
const LISTS_MAX_AGE_MS = 24 * 3600 * 1000;

$.quiet = true;

/** The default cache root: a system cache folder when writable (kept across clones), else the repository's. */
function defaultCacheRoot() {
  if (process.env.PGSTRAP_TEST_CACHE) return process.env.PGSTRAP_TEST_CACHE;
  try {
    fs.mkdirSync('/var/cache/pgstrap-test', { recursive: true, mode: 0o755 });
    fs.accessSync('/var/cache/pgstrap-test', fs.constants.W_OK);
    return '/var/cache/pgstrap-test';
  } catch {
    return path.resolve(import.meta.dirname, '../../node_modules/.cache/pgstrap-test');
  }
}

/** Parses apt's deb822 and one-line sources into { uris, suites, components, signedBy } entries. */
export function parseSources(files) {
  const entries = [];
  for (const [file, text] of files) {
    if (file.endsWith('.sources')) {
      for (const stanza of text.split(/\n\s*\n/)) {
        const fields = {};
        for (const line of stanza.split('\n')) {
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m && !line.startsWith('#')) fields[m[1].toLowerCase()] = m[2].trim();
        }
        if (!fields.uris || !(fields.types ?? '').split(/\s+/).includes('deb') || fields.enabled === 'no') continue;
        entries.push({ uris: fields.uris.split(/\s+/), suites: (fields.suites ?? '').split(/\s+/), components: (fields.components ?? '').split(/\s+/), signedBy: fields['signed-by'] });
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)\s*(.*)$/.exec(line);
        if (!m) continue;
        const signedBy = /signed-by=(\S+)/.exec(m[1] ?? '')?.[1];
        entries.push({ uris: [m[2]], suites: [m[3]], components: m[4].split(/\s+/), signedBy });
      }
    }
  }
  return entries;
}

/** The machine's own Debian mirror (the entry serving its release's main suite) and keyring, used with suite trixie. */
async function findMirror() {
  const osRelease = await fs.readFile('/etc/os-release', 'utf8').catch(() => '');
  const codename = /^VERSION_CODENAME=(.*)$/m.exec(osRelease)?.[1]?.replace(/"/g, '');
  const files = [];
  if (fs.existsSync('/etc/apt/sources.list')) files.push(['/etc/apt/sources.list', await fs.readFile('/etc/apt/sources.list', 'utf8')]);
  const partsDir = '/etc/apt/sources.list.d';
  for (const name of fs.existsSync(partsDir) ? await fs.readdir(partsDir) : []) {
    if (name.endsWith('.list') || name.endsWith('.sources')) files.push([path.join(partsDir, name), await fs.readFile(path.join(partsDir, name), 'utf8')]);
  }
  const entries = parseSources(files);
  const entry = entries.find((e) => e.components.includes('main') && (e.suites.includes(codename) || e.suites.includes(SUITE)));
  if (!entry) throw new Error(`no Debian main suite ${codename ?? '(unknown release)'} in /etc/apt/sources.list*: cannot find a mirror for ${SUITE}`);
  const keyring = entry.signedBy ?? '/usr/share/keyrings/debian-archive-keyring.gpg';
  if (!fs.existsSync(keyring)) throw new Error(`keyring ${keyring} is missing (apt-get install debian-archive-keyring)`);
  return { uri: entry.uris[0], keyring };
}

/** apt's options for a private configuration under `dir`: the machine's own sources, state and cache are not read. */
function aptOptions(dir) {
  const options = {
    'Dir::Etc::SourceList': path.join(dir, 'sources.list'),
    'Dir::Etc::SourceParts': path.join(dir, 'empty'),
    'Dir::Etc::Preferences': path.join(dir, 'empty', 'preferences'),
    'Dir::Etc::PreferencesParts': path.join(dir, 'empty'),
    'Dir::State::Lists': path.join(dir, 'lists'),
    'Dir::State::status': path.join(dir, 'status'),
    'Dir::Cache': path.join(dir, 'cache'),
    'Dir::Cache::Archives': path.join(dir, 'cache', 'archives'),
    'APT::Architecture': ARCH,
    'APT::Architectures': ARCH,
    'Acquire::Languages': 'none',
  };
  // As root, apt downloads as _apt, who cannot write into a root-owned folder of ours.
  if (process.getuid?.() === 0) options['APT::Sandbox::User'] = 'root';
  return Object.entries(options).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
}

/** Updates the private package lists when older than a day; an old list is used when the mirror is unreachable. */
async function updateLists(aptDir, mirror, refresh) {
  for (const sub of ['empty', 'lists/partial', 'cache/archives/partial', 'debs']) await fs.mkdir(path.join(aptDir, sub), { recursive: true });
  if (!fs.existsSync(path.join(aptDir, 'status'))) await fs.writeFile(path.join(aptDir, 'status'), '');
  const sources = `deb [signed-by=${mirror.keyring}] ${mirror.uri} ${SUITE} main\n`;
  const sourcesFile = path.join(aptDir, 'sources.list');
  const changed = !fs.existsSync(sourcesFile) || (await fs.readFile(sourcesFile, 'utf8')) !== sources;
  if (changed) await fs.writeFile(sourcesFile, sources);
  const release = (await fs.readdir(path.join(aptDir, 'lists'))).find((f) => f.endsWith('_InRelease'));
  const age = release ? Date.now() - fs.statSync(path.join(aptDir, 'lists', release)).mtimeMs : Infinity;
  if (!refresh && !changed && age < LISTS_MAX_AGE_MS) return;
  const result = await $`apt-get ${aptOptions(aptDir)} update`.nothrow();
  if (result.exitCode !== 0 || /^(E|W): /m.test(result.stderr)) {
    if (release && !changed) console.error(`apt-get update for ${SUITE} failed; using the lists from before:\n${result.stderr.trim()}`);
    else throw new Error(`apt-get update for ${SUITE} failed:\n${result.stderr.trim()}`);
  }
}

/** Splits a Depends field into package names (every alternative; version constraints dropped). */
function dependNames(field) {
  return (field ?? '').split(/[,|]/).map((d) => d.trim().replace(/\s*\(.*\)$/, '').replace(/:any$/, '')).filter(Boolean);
}

/** The candidate version, file name and dependencies of each package that exists in the private lists. */
async function showPackages(aptDir, names) {
  if (names.length === 0) return new Map();
  const result = await $`apt-cache ${aptOptions(aptDir)} show --no-all-versions ${names}`.nothrow();
  const found = new Map();
  for (const stanza of result.stdout.split(/\n\n+/)) {
    const field = (key) => new RegExp(`^${key}: (.*)$`, 'm').exec(stanza)?.[1];
    const name = field('Package');
    if (!name || found.has(name)) continue;
    found.set(name, { name, version: field('Version'), depends: [...dependNames(field('Pre-Depends')), ...dependNames(field('Depends'))] });
  }
  return found;
}

/** Downloads the packages' .deb files into the private archive folder (kept between runs); returns name -> file. */
async function download(aptDir, infos) {
  const debs = path.join(aptDir, 'debs');
  const debFile = (info) => path.join(debs, `${info.name}_${info.version.replace(/:/g, '%3a')}_`);
  const files = new Map();
  const listing = () => fs.readdirSync(debs);
  const find = (info) => listing().find((f) => path.join(debs, f).startsWith(debFile(info)) && f.endsWith('.deb'));
  const missing = infos.filter((info) => !find(info));
  if (missing.length > 0) {
    const specs = missing.map((info) => `${info.name}=${info.version}`);
    await within(debs, () => $`apt-get ${aptOptions(aptDir)} download ${specs}`);
  }
  for (const info of infos) {
    const file = find(info);
    if (!file) throw new Error(`apt-get download left no .deb for ${info.name} ${info.version}`);
    files.set(info.name, path.join(debs, file));
  }
  return files;
}

/** Runs `fn` with zx's working directory set to `dir`. */
async function within(dir, fn) {
  const before = $.cwd;
  $.cwd = dir;
  try {
    return await fn();
  } finally {
    $.cwd = before;
  }
}

/** Shared library file names (sonames) a .deb ships, outside usr/share. */
async function sonamesIn(deb) {
  const { stdout } = await $`dpkg-deb -c ${deb}`;
  const names = new Set();
  for (const line of stdout.split('\n')) {
    const m = / \.\/(\S+?)(?: -> .*)?$/.exec(line);
    if (m && !m[1].startsWith('usr/share/') && /\.so(\.|$)/.test(path.basename(m[1]))) names.add(path.basename(m[1]));
  }
  return names;
}

/** Files and symlinks under `dir` outside usr/share (which holds no ELF file), with their dirent. */
async function treeEntries(dir) {
  const out = [];
  const walk = async (d) => {
    for (const entry of await fs.readdir(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) {
        if (path.relative(dir, p) !== 'usr/share') await walk(p);
      } else out.push({ path: p, entry });
    }
  };
  await walk(dir);
  return out;
}

/** Every ELF file under `dir` (regular files with the ELF magic). */
async function elfFiles(dir) {
  const out = [];
  for (const { path: p, entry } of await treeEntries(dir)) {
    if (!entry.isFile()) continue;
    const fd = await fs.open(p, 'r');
    const magic = Buffer.alloc(4);
    await fs.read(fd, magic, 0, 4, 0);
    await fs.close(fd);
    if (magic.toString('latin1') === '\x7fELF') out.push(p);
  }
  return out;
}

/** The folders (relative to `dir`) holding a soname some ELF file needs, LIB_DIRS first. */
async function libraryFolders(dir, sections) {
  const needed = new Set([...sections.values()].flatMap((s) => s.needed));
  const found = (await treeEntries(dir)).filter(({ entry }) => needed.has(entry.name)).map(({ path: p }) => path.relative(dir, path.dirname(p)));
  return [...new Set([...LIB_DIRS.filter((d) => fs.existsSync(path.join(dir, d))), ...found])];
}

/**
 * `readelf -dl` of each file: its NEEDED sonames, RUNPATH/RPATH and whether it asks for an interpreter; files
 * without a dynamic section are left out. `known` holds earlier answers (files do not change between rounds).
 */
async function dynamicSections(files, known = new Map()) {
  const sections = new Map();
  const todo = files.filter((f) => {
    if (known.has(f)) {
      if (known.get(f)) sections.set(f, known.get(f));
      return false;
    }
    return true;
  });
  const batches = [];
  for (let i = 0; i < todo.length; i += 100) batches.push(todo.slice(i, i + 100));
  await pool(batches, 4, async (batch) => {
    const { stdout } = await $`readelf -dlW ${batch}`.nothrow();
    // With several files readelf heads each with "File: <name>"; a file without a dynamic section has no rows.
    const parts = batch.length === 1 ? [[batch[0], stdout]] : stdout.split(/^File: /m).slice(1).map((p) => [p.slice(0, p.indexOf('\n')).trim(), p]);
    for (const [file, text] of parts) {
      if (!/Dynamic section at offset/.test(text)) {
        known.set(file, undefined);
        continue;
      }
      const needed = [...text.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
      const runpath = /\((?:RUNPATH|RPATH)\)\s+Library (?:runpath|rpath): \[([^\]]*)\]/.exec(text)?.[1];
      const section = { needed, runpath, interp: text.includes('Requesting program interpreter') };
      known.set(file, section);
      sections.set(file, section);
    }
  });
  return sections;
}

/** Whether one of the file's own `$ORIGIN` RUNPATH entries holds `soname` (those resolve inside the prefix already). */
function resolvesByOrigin(file, runpath, soname) {
  return (runpath ?? '').split(':').some((e) => e.startsWith('$ORIGIN') && fs.existsSync(path.join(e.replace(/^\$ORIGIN/, path.dirname(file)), soname)));
}

/** Sonames the prefix's ELF files need that no file in it has. */
async function unresolvedSonames(prefix, known) {
  const provided = new Set((await treeEntries(prefix)).map(({ entry }) => entry.name));
  const sections = await dynamicSections(await elfFiles(prefix), known);
  const missing = new Map();
  for (const [file, { needed, runpath }] of sections) {
    for (const soname of needed) {
      if (provided.has(soname) || resolvesByOrigin(file, runpath, soname)) continue;
      missing.set(soname, [...(missing.get(soname) ?? []), path.relative(prefix, file)]);
    }
  }
  return missing;
}

/** Debian names library packages lib* (zlib1g is the exception); others (perl, tzdata, locales) ship no soname we need. */
function isLibraryPackage(name) {
  return /^(lib|zlib)/.test(name) && !/-(perl|data|common|dev|doc|bin)$/.test(name);
}

/**
 * What postgresql-17-postgis-3-scripts' postinst does with update-alternatives (dpkg-deb -x runs no maintainer
 * script): `postgis.control` and its siblings name the `-3` control files.
 */
async function linkPostgisControls(staging) {
  const dir = path.join(staging, 'usr/share/postgresql/17/extension');
  for (const name of await fs.readdir(dir)) {
    const m = /^((?:postgis|address_standardizer)[a-z_]*)-3\.control$/.exec(name);
    if (m && !fs.existsSync(path.join(dir, `${m[1]}.control`))) await fs.symlink(name, path.join(dir, `${m[1]}.control`));
  }
}

/** Runs `fn` over `items`, `limit` at a time. */
async function pool(items, limit, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]);
  }));
}

/**
 * Unpacks the root packages and then, round by round, those of their dependencies that ship a soname still
 * unresolved, until every NEEDED entry resolves inside the prefix. Returns the chosen packages.
 */
async function unpackClosure(aptDir, staging) {
  const chosen = new Map();
  const considered = new Set(ROOT_PACKAGES);
  const roots = await showPackages(aptDir, ROOT_PACKAGES);
  const absent = ROOT_PACKAGES.filter((n) => !roots.has(n));
  if (absent.length > 0) throw new Error(`${SUITE} has no ${absent.join(', ')}`);
  let batch = [...roots.values()];
  const known = new Map();
  for (;;) {
    const files = await download(aptDir, batch);
    // One at a time: packages may share folders, and dpkg-deb -x of two into one tree is not atomic per path.
    for (const info of batch) {
      await $`dpkg-deb -x ${files.get(info.name)} ${staging}`;
      chosen.set(info.name, info);
    }
    const missing = await unresolvedSonames(staging, known);
    if (missing.size === 0) return { chosen, known };
    const frontier = [...new Set([...chosen.values()].flatMap((i) => i.depends))].filter((n) => !considered.has(n) && isLibraryPackage(n));
    frontier.forEach((n) => considered.add(n));
    const candidates = [...(await showPackages(aptDir, frontier)).values()];
    const debs = await download(aptDir, candidates);
    batch = [];
    await pool(candidates, 4, async (info) => {
      const ships = await sonamesIn(debs.get(info.name));
      if ([...missing.keys()].some((s) => ships.has(s))) batch.push(info);
    });
    if (batch.length === 0) {
      const lines = [...missing].map(([soname, users]) => `${soname} (needed by ${users.slice(0, 3).join(', ')})`);
      throw new Error(`no dependency of the chosen packages ships:\n  ${lines.join('\n  ')}`);
    }
  }
}

/** Points programs at the prefix's loader and adds its library folders to every ELF file's RUNPATH. */
async function patchPrefix(staging, prefix, known) {
  const loader = path.join(prefix, 'usr/lib/x86_64-linux-gnu', LOADER);
  if (!fs.existsSync(path.join(staging, 'usr/lib/x86_64-linux-gnu', LOADER))) throw new Error(`libc6 left no ${LOADER} in usr/lib/x86_64-linux-gnu`);
  const sections = await dynamicSections(await elfFiles(staging), known);
  const libDirs = (await libraryFolders(staging, sections)).map((d) => path.join(prefix, d));
  // A library that needs only libc (most gconv modules) resolves it to the libc already loaded: left as it is.
  const alwaysLoaded = new Set(['libc.so.6', LOADER]);
  const needsPatch = ([file, { needed, runpath, interp }]) =>
    path.basename(file) !== LOADER && (interp || needed.some((n) => !alwaysLoaded.has(n) && !resolvesByOrigin(file, runpath, n)));
  const todo = [...sections].filter(needsPatch);
  await pool(todo, 4, async ([file, { runpath, interp }]) => {
    // Keep relative entries ($ORIGIN: glibc's gconv modules find their helpers so); move absolute ones into the prefix.
    const kept = (runpath ?? '').split(':').filter(Boolean).map((e) => (e.startsWith('/') ? path.join(prefix, e) : e));
    const entries = [...new Set([...kept, ...libDirs])];
    const args = interp ? ['--set-interpreter', loader] : [];
    await $`patchelf ${args} --set-rpath ${entries.join(':')} ${file}`;
  });
  return { patched: todo.length, libDirs };
}

/** A digest of the private lists' Release file: equal digests, equal package versions. */
async function listsStamp(aptDir) {
  const release = (await fs.readdir(path.join(aptDir, 'lists'))).find((f) => f.endsWith('_InRelease'));
  return release ? createHash('sha256').update(await fs.readFile(path.join(aptDir, 'lists', release))).digest('hex') : undefined;
}

/** A short name for a set of package versions. */
function keyOf(infos) {
  const text = [`recipe=${RECIPE}`, ...[...infos].map((i) => `${i.name}=${i.version}`).sort()].join('\n');
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/** Reads a built prefix's manifest, or undefined when absent or incomplete. */
function readManifest(dir) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Builds (or finds in the cache) the trixie PostgreSQL 17 prefix; must run under the cache root's lock. */
export async function buildTrixiePostgres({ cacheRoot = defaultCacheRoot(), refresh = false } = {}) {
  const started = Date.now();
  if (os.platform() !== 'linux' || os.arch() !== 'x64') throw new Error(`${SUITE}'s ${ARCH} packages run on Linux x86_64 only (this is ${os.platform()} ${os.arch()})`);
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb', 'readelf', 'patchelf']) {
    if (!(await $`command -v ${tool}`.nothrow()).stdout.trim()) throw new Error(`${tool} is not installed (.ci/run installs patchelf and binutils)`);
  }
  const root = path.join(cacheRoot, `${SUITE}-postgresql-17`);
  const aptDir = path.join(root, 'apt');
  await fs.mkdir(root, { recursive: true, mode: 0o755 });
  await updateLists(aptDir, await findMirror(), refresh);

  // A cached prefix is current when every package in it still has the version the lists offer (certainly so
  // when the lists are the ones it was built from).
  const current = readManifest(path.join(root, 'current'));
  const lists = await listsStamp(aptDir);
  if (current && fs.existsSync(path.join(current.prefix, BIN_DIR, 'postgres'))) {
    const now = current.lists === lists ? undefined : await showPackages(aptDir, current.packages.map((p) => p.name));
    if (!now || (keyOf(now.values()) === current.key && now.size === current.packages.length)) {
      if (now) await fs.writeFile(path.join(current.prefix, 'manifest.json'), `${JSON.stringify({ ...current, lists }, null, 2)}\n`);
      return { ...current, lists, built: false, seconds: (Date.now() - started) / 1000 };
    }
  }

  const staging = path.join(root, `staging-${process.pid}`);
  await fs.rm(staging, { recursive: true, force: true });
  await fs.mkdir(staging, { mode: 0o755 });
  try {
    const { chosen, known } = await unpackClosure(aptDir, staging);
    await linkPostgisControls(staging);
    const key = keyOf(chosen.values());
    const prefix = path.join(root, key);
    const { patched: elfCount, libDirs } = await patchPrefix(staging, prefix, known);
    const version = (await $`${path.join(staging, BIN_DIR, 'postgres')} --version`.nothrow()).stdout.trim();
    const manifest = {
      key,
      prefix,
      binDir: path.join(prefix, BIN_DIR),
      version,
      lists,
      packages: [...chosen.values()].map(({ name, version: v }) => ({ name, version: v })),
      libraryFolders: libDirs,
      patchedElfFiles: elfCount,
    };
    await fs.writeFile(path.join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    await fs.rm(prefix, { recursive: true, force: true });
    await fs.rename(staging, prefix);
    // The binaries were patched for `prefix`: they run only once it is there, so it is checked there.
    const probe = await $`${path.join(prefix, BIN_DIR, 'postgres')} --version`.nothrow();
    if (probe.exitCode !== 0) throw new Error(`${path.join(prefix, BIN_DIR, 'postgres')} --version failed:\n${probe.stderr.trim()}`);
    manifest.version = probe.stdout.trim();
    await fs.writeFile(path.join(prefix, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    const link = path.join(root, `current-${process.pid}`);
    await fs.rm(link, { force: true });
    await fs.symlink(key, link);
    await fs.rename(link, path.join(root, 'current'));
    // Older prefixes: nothing points at them any more.
    for (const name of await fs.readdir(root)) {
      if (/^[0-9a-f]{16}$/.test(name) && name !== key) await fs.rm(path.join(root, name), { recursive: true, force: true });
    }
    return { ...manifest, built: true, seconds: (Date.now() - started) / 1000 };
  } finally {
    await fs.rm(staging, { recursive: true, force: true });
  }
}

async function main() {
  const args = minimist(process.argv.slice(2), { string: ['cache'], boolean: ['refresh'] });
  const cacheRoot = path.resolve([args.cache ?? []].flat().at(-1) ?? defaultCacheRoot());
  // One build at a time per cache root: a second caller waits, then finds the first one's prefix.
  if (process.env.PGSTRAP_TRIXIE_LOCKED !== cacheRoot) {
    await fs.mkdir(cacheRoot, { recursive: true, mode: 0o755 });
    const self = [process.execPath, import.meta.filename, ...process.argv.slice(2)];
    const child = await $({ env: { ...process.env, PGSTRAP_TRIXIE_LOCKED: cacheRoot }, stdio: ['ignore', 'pipe', 'inherit'] })`flock ${path.join(cacheRoot, '.lock')} ${self}`.nothrow();
    process.stdout.write(child.stdout);
    process.exit(child.exitCode ?? 1);
  }
  try {
    const result = await buildTrixiePostgres({ cacheRoot, refresh: args.refresh });
    console.log(JSON.stringify(result));
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    process.exit(1);
  }
}

if (process.argv[1] === import.meta.filename) await main();
