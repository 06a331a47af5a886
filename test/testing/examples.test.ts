/**
 * The testing examples docs/testing.md shows (examples/testing/) run for real, in an app that installed pgstrap:
 * Vitest with two parallel workers (the project's cluster) and node --test with two files at a time (the
 * throwaway test cluster), each test file on a database of its own (a row one writes is not in another's); no
 * clone is left behind.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { withClient } from '../../scripts/server/connection.ts';
import { REPO_ROOT, makeProject, testEnv, type TestProject } from '../support/project.ts';

const EXAMPLES = path.join(REPO_ROOT, 'examples', 'testing');

let project: TestProject;

/**
 * node_modules as an install of pgstrap makes it: the repository's packages, `pgstrap` itself and its bin
 * (so `npx pgstrap` and `import 'pgstrap/testing'` resolve as in an app).
 */
function installPgstrap(dir: string): void {
  const modules = path.join(dir, 'node_modules');
  fs.rmSync(modules, { force: true });
  fs.mkdirSync(path.join(modules, '.bin'), { recursive: true });
  const repoModules = path.join(REPO_ROOT, 'node_modules');
  for (const entry of fs.readdirSync(repoModules)) {
    if (entry !== '.bin' && entry !== 'pgstrap') fs.symlinkSync(path.join(repoModules, entry), path.join(modules, entry));
  }
  for (const bin of fs.readdirSync(path.join(repoModules, '.bin'))) fs.symlinkSync(fs.realpathSync(path.join(repoModules, '.bin', bin)), path.join(modules, '.bin', bin));
  fs.symlinkSync(REPO_ROOT, path.join(modules, 'pgstrap'));
  fs.symlinkSync(path.join(REPO_ROOT, 'scripts', 'pgstrap.mjs'), path.join(modules, '.bin', 'pgstrap'));
}

function runIn(cwd: string, args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, args, { cwd, env: testEnv(undefined, { CI: 'true', NO_COLOR: '1', PATH: `${path.join(project.dir, 'node_modules', '.bin')}:${process.env.PATH}`, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d) => (out += String(d)));
  child.stderr.on('data', (d) => (out += String(d)));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out })));
}

/** The `<file>: pid N, database D` lines the example tests print (node --test prefixes `# `, and may repeat them in its summary). */
function reported(out: string): Array<{ file: string; pid: number; database: string }> {
  const byFile = new Map<string, { file: string; pid: number; database: string }>();
  for (const m of out.matchAll(/^(?:# )?(\w+\.test\.m?[jt]s): pid (\d+), database (\S+)$/gm)) byFile.set(m[1]!, { file: m[1]!, pid: Number(m[2]), database: m[3]! });
  return [...byFile.values()];
}

/** The clones left on the project's cluster, or on its throwaway test cluster. */
async function clonesLeft(cluster: 'development' | 'test' = 'development'): Promise<string[]> {
  const state = path.join(project.dir, '.pgstrap');
  const password = fs.readFileSync(path.join(state, cluster === 'test' ? 'test-cluster' : '', 'password'), 'utf8').trim();
  const port = cluster === 'test' ? Number(fs.readFileSync(path.join(state, 'test-cluster.port'), 'utf8').trim()) : project.config.port;
  const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`;
  return withClient({ connectionString: url }, async (c) => (await c.query<{ datname: string }>("SELECT datname FROM pg_database WHERE starts_with(datname, 'pgstrap_test_')")).rows.map((r) => r.datname));
}

function expectIsolated(out: string, files: string[]): void {
  const lines = reported(out);
  expect(lines.map((l) => l.file).sort(), out).toEqual([...files].sort());
  // Each file in a process and a database of its own.
  expect(new Set(lines.map((l) => l.pid)).size).toBe(files.length);
  expect(new Set(lines.map((l) => l.database)).size).toBe(files.length);
  for (const l of lines) expect(l.database).toMatch(/^pgstrap_test_/);
}

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({ port: project.config.port, engine: 'embedded', databases: ['app'] });
  fs.cpSync(path.join(REPO_ROOT, 'examples', 'migrations'), path.join(project.dir, 'migrations'), { recursive: true });
  installPgstrap(project.dir);
  fs.cpSync(EXAMPLES, project.dir, { recursive: true });
}, 60_000);
afterAll(async () => project?.remove());

it('the Vitest example: a global setup, then each test file on its own database, two workers in parallel', async () => {
  const vitest = path.join(REPO_ROOT, 'node_modules', 'vitest', 'vitest.mjs');
  const result = await runIn(path.join(project.dir, 'vitest'), [vitest, 'run', '--maxWorkers=2', '--minWorkers=2']);
  expect(result.code, result.out).toBe(0);
  expect(result.out).toMatch(/Tests\s+2 passed/);
  expectIsolated(result.out, ['prompts.test.ts', 'requests.test.ts']);
  expect(await clonesLeft()).toEqual([]);
}, 240_000);

it('the node:test example on the throwaway test cluster: each file in its process on its own database, two at a time', async () => {
  // The Vitest example's global setup ran setup; an app runs it first too (`pgstrap setup && node --test`).
  // PGSTRAP_TEST_CLUSTER=1: the two files start the test cluster and build its template at the same time (one does, under the locks).
  const result = await runIn(path.join(project.dir, 'node-test'), ['--test', '--test-concurrency=2'], { PGSTRAP_TEST_CLUSTER: '1' });
  expect(result.code, result.out).toBe(0);
  expect(result.out).toMatch(/# pass 2/);
  expectIsolated(result.out, ['prompts.test.mjs', 'requests.test.mjs']);
  expect(await clonesLeft('test')).toEqual([]);
  expect(await clonesLeft()).toEqual([]);
}, 240_000);
