/**
 * The layout as a contract, read from the sources' imports: which files are pure, and which way the
 * dependencies run. See docs/architecture.md.
 *
 * Pure is the default. A file is effectful when it imports a module that reaches outside the process
 * (the file system, child processes, sockets, the server, the terminal) or reads `process`, or imports
 * an effectful file. Those files are listed below, one list for the whole tree: a pure file that starts
 * doing I/O fails here, naming the import that did it, and so does a listed file that has become pure.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '..');
const SCRIPTS = path.join(ROOT, 'scripts');

/** Modules whose loading or use is an effect; type-only imports of them are not, except of `pg` (a file that takes a client queries it). */
const EFFECT_MODULES = [
  'pg',
  'node:fs',
  'node:fs/promises',
  'node:child_process',
  'node:net',
  'node:os',
  'node:module',
  'node:timers/promises',
  'execa',
  'listr2',
  'cosmiconfig',
  'proper-lockfile',
  'esbuild',
  'zx',
  'node-pg-migrate',
];

/** Effectful files (relative to scripts/); everything else must stay pure. */
const EFFECTFUL = new Set([
  'cli.ts',
  'bench/doctor.ts',
  'bench/insert-driver.ts',
  'bench/migrations.ts',
  'bench/run.ts',
  'bench/session.ts',
  'bench/setup-figures.ts',
  'bench/uuid-keys.ts',
  'bench/uuidv7-generation.ts',
  'cluster/settings.ts',
  'cluster/step.ts',
  'commands/bench.ts',
  'commands/doctor.ts',
  'commands/env.ts',
  'commands/init.ts',
  'commands/lifecycle.ts',
  'commands/migrate.ts',
  'commands/setup.ts',
  'commands/verify.ts',
  'config/load.ts',
  'databases/inspect.ts',
  'databases/step.ts',
  'doctor/fix.ts',
  'doctor/gather.ts',
  'doctor/render.ts',
  'doctor/run.ts',
  'doctor/read-cron.ts',
  'extensions/files.ts',
  'init/apply.ts',
  'extensions/server.ts',
  'extensions/step.ts',
  'migrations/apply.ts',
  'migrations/command.ts',
  'migrations/files.ts',
  'migrations/history.ts',
  'migrations/lock.ts',
  'migrations/runner.ts',
  'migrations/step.ts',
  'nix/step.ts',
  'pipeline/project.ts',
  'pipeline/run.ts',
  'pipeline/step.ts',
  'pipeline/steps.ts',
  'server/binaries.ts',
  'server/client-env.ts',
  'server/cluster.ts',
  'server/connection.ts',
  'server/embedded.ts',
  'server/free-space.ts',
  'server/ownership.ts',
  'server/placement.ts',
  'server/port.ts',
  'server/process.ts',
  'server/program-answers.ts',
  'server/project-lock.ts',
  'server/read-privileges.ts',
  'server/read-settings.ts',
  'server/select.ts',
  'server/server-user.ts',
  'server/system.ts',
  'server/target.ts',
  'shared/install-root.ts',
  'shared/output.ts',
  'shared/render-error.ts',
  'shared/write-file.ts',
  'seeds/files.ts',
  'seeds/step.ts',
  'reset/run.ts',
  'testing/cluster.ts',
  'testing/databases.ts',
  'testing/index.ts',
  'server/psql.ts',
  'commands/reset.ts',
  'commands/logs.ts',
  'commands/psql.ts',
  'commands/test-databases.ts',
  'uuidv7/read.ts',
  'uuidv7/step.ts',
  'uuidv7/verify-step.ts',
]);

/**
 * The layers, lowest first: a file imports only from its own folder or a lower layer. Folders of one
 * layer do not import each other, except as EXCEPTIONS says.
 */
const LAYERS: string[][] = [
  ['shared'],
  ['config'],
  ['server'],
  // What each extension needs (settings, preloads, files) decides the cluster's settings and the flake's list.
  ['extensions'],
  ['cluster', 'databases', 'nix', 'uuidv7', 'migrations'],
  // Seeds run after migrations, in the same kind of SQL file, and name a failed statement with their error builders.
  ['seeds'],
  ['pipeline'],
  // reset drops and rebuilds databases with the pipeline's steps; testing builds templates with them.
  ['doctor', 'bench', 'init', 'reset', 'testing'],
  ['commands'],
  ['.'],
];

/** The arrows that run against the layers, each with its reason: written down here and nowhere else. */
const EXCEPTIONS: { from: string; to: string; why: string }[] = [
  { from: 'config/validate.ts', to: 'extensions/rules.ts', why: 'a config is valid only if its extensions agree with the catalogue (conflicts, one database per cluster)' },
  { from: '*', to: 'pipeline/step.ts', why: 'every stage implements the Step contract the pipeline runs' },
  { from: '*', to: 'pipeline/report.ts', why: 'a step returns its outcome in the report types' },
];

interface Import {
  specifier: string;
  typeOnly: boolean;
}

/** Every `import`, `export … from` and `import()` of a source file. */
function importsOf(text: string): Import[] {
  const found: Import[] = [];
  const statement = /^\s*(import|export)\s+(type\s+)?([^'";]*?\s+from\s+)?['"]([^'"]+)['"]/gm;
  for (const m of text.matchAll(statement)) found.push({ specifier: m[4]!, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(/\bimport\(\s*['"]([^'"]+)['"]\s*\)/g)) found.push({ specifier: m[1]!, typeOnly: false });
  return found;
}

/** Whether the code (comments and strings aside, roughly) reads or drives the running process. */
function usesProcess(text: string): boolean {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '').replace(/`[^`]*`|'[^'\n]*'/g, "''");
  return /\bprocess\.[a-zA-Z]/.test(code);
}

function sourceFiles(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.split(path.sep).join('/'))
    .sort();
}

const FILES = sourceFiles(SCRIPTS);
const TEXT = new Map(FILES.map((f) => [f, fs.readFileSync(path.join(SCRIPTS, f), 'utf8')]));

/** Local imports of `file`, as paths relative to scripts/ (runtime imports only unless `withTypes`). */
function localImports(file: string, withTypes: boolean): string[] {
  return importsOf(TEXT.get(file)!)
    .filter((i) => i.specifier.startsWith('.') && (withTypes || !i.typeOnly))
    .map((i) => path.posix.normalize(path.posix.join(path.posix.dirname(file), i.specifier)));
}

/** Why `file` is effectful (the first chain found), or undefined when it is pure. */
function effectOf(file: string, seen = new Set<string>()): string | undefined {
  if (seen.has(file)) return undefined;
  seen.add(file);
  const text = TEXT.get(file);
  if (text === undefined) return undefined;
  const direct = importsOf(text).find((i) => (!i.typeOnly || i.specifier === 'pg') && EFFECT_MODULES.includes(i.specifier));
  if (direct) return `imports ${direct.specifier}`;
  if (usesProcess(text)) return 'uses process';
  for (const dep of localImports(file, false)) {
    const why = effectOf(dep, seen);
    if (why) return `imports ${dep}, which ${why}`;
  }
  return undefined;
}

function folderOf(file: string): string {
  return file.includes('/') ? file.slice(0, file.indexOf('/')) : '.';
}

function layerOf(folder: string): number {
  const layer = LAYERS.findIndex((l) => l.includes(folder));
  if (layer < 0) throw new Error(`scripts/${folder}/ is in no layer of test/architecture.test.ts`);
  return layer;
}

describe('architecture', () => {
  it('finds the sources and their imports', () => {
    expect(FILES.length).toBeGreaterThan(80);
    expect(localImports('cli.ts', true).length).toBeGreaterThan(3);
  });

  it('keeps every file not listed as effectful pure', () => {
    const impure = FILES.filter((f) => !EFFECTFUL.has(f))
      .map((f) => [f, effectOf(f)] as const)
      .filter(([, why]) => why !== undefined)
      .map(([f, why]) => `${f} ${why}`);
    expect(impure).toEqual([]);
  });

  it('lists as effectful only files that exist and have effects', () => {
    const stale = [...EFFECTFUL].filter((f) => !TEXT.has(f) || effectOf(f) === undefined);
    expect(stale).toEqual([]);
  });

  it('runs the dependencies one way: down the layers, never across stages', () => {
    const wrong: string[] = [];
    for (const file of FILES) {
      const from = folderOf(file);
      for (const dep of localImports(file, true)) {
        const to = folderOf(dep);
        if (to === from || !TEXT.has(dep)) continue;
        if (EXCEPTIONS.some((e) => (e.from === '*' || e.from === file) && e.to === dep)) continue;
        if (layerOf(to) >= layerOf(from)) wrong.push(`${file} → ${dep}`);
      }
    }
    expect(wrong).toEqual([]);
  });

  it('fails on the cases it exists for (the checks themselves)', () => {
    expect(importsOf("import type pg from 'pg';\nimport { x } from './a.ts';")).toEqual([
      { specifier: 'pg', typeOnly: true },
      { specifier: './a.ts', typeOnly: false },
    ]);
    expect(importsOf("import {\n  a,\n  b,\n} from 'node:fs';")).toEqual([{ specifier: 'node:fs', typeOnly: false }]);
    expect(importsOf("const m = await import('esbuild');")).toEqual([{ specifier: 'esbuild', typeOnly: false }]);
    expect(usesProcess('const a = process.env.HOME;')).toBe(true);
    expect(usesProcess("// process.env is not read here\nconst a = 'process.env';")).toBe(false);
  });
});
