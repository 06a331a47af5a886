/**
 * pgstrap/testing on real servers: a clone holds the migrations and seeds; the template is built once per
 * content and marked; parallel processes get isolated databases from one build; a killed run's clones are
 * reaped (db:prune-test, and the next template build); a failed test's database is kept when asked; an
 * external Debian 15 server works through a URL.
 */
import fs from 'node:fs';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, prepareTestTemplate, pruneTestDatabasesOf } from '../../scripts/testing/index.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { testClusterMemoryDir } from '../../scripts/testing/cluster.ts';
import { memoryDataDir } from '../../scripts/testing/template.ts';
import { REPO_ROOT, debianPostgres, makeProject, runCli, testEnv, waitForExit, type TestProject } from '../support/project.ts';

const WORKER = path.join(import.meta.dirname, 'clone-worker.ts');

let project: TestProject;
let adminUrl: string;

function seed(name: string, sql: string): void {
  fs.mkdirSync(path.join(project.dir, 'seeds'), { recursive: true });
  fs.writeFileSync(path.join(project.dir, 'seeds', name), sql);
}

/** Databases on the project's server whose names start with `prefix`, with their template flag and comment. */
async function databases(prefix: string): Promise<Array<{ datname: string; datistemplate: boolean; comment: string | null }>> {
  return withClient({ connectionString: adminUrl }, async (c) =>
    (await c.query("SELECT datname, datistemplate, shobj_description(oid, 'pg_database') AS comment FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname", [prefix])).rows,
  );
}

interface WorkerLine {
  pid: number;
  built: boolean;
  template: string;
  names: string[];
  rows: number[];
}

/** Starts clone-worker.ts; resolves with its JSON line once printed (and the child, to kill or await). */
function startWorker(count: number, mode: 'done' | 'hang', cwd = project.dir, url?: string, env: Record<string, string> = {}): { line: Promise<WorkerLine>; pid: number; exited: Promise<number | null> } {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER, cwd, String(count), mode, ...(url ? [url] : [])], { cwd: REPO_ROOT, env: testEnv(undefined, env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err += String(d)));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const line = new Promise<WorkerLine>((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += String(d);
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as WorkerLine);
    });
    child.on('close', (code) => reject(new Error(`worker exited ${code} before printing: ${err}`)));
  });
  return { line, pid: child.pid!, exited };
}

/** Runs node with `args` in `cwd`; its exit code and output. */
function runNode(args: string[], cwd: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, args, { cwd, env: testEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += String(d)));
  child.stderr.on('data', (d) => (stderr += String(d)));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({ port: project.config.port, engine: 'embedded', databases: ['app'] });
  fs.cpSync(path.join(REPO_ROOT, 'examples', 'migrations'), path.join(project.dir, 'migrations'), { recursive: true });
  seed('001_requests.sql', "INSERT INTO llm_requests (model, request) VALUES ('seed-1', '{}');\n");
  const setup = await runCli(['setup'], { cwd: project.dir });
  expect(setup.exitCode, String(setup.stderr)).toBe(0);
  const password = fs.readFileSync(path.join(project.dir, '.pgstrap', 'password'), 'utf8').trim();
  adminUrl = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${project.config.port}/postgres`;
}, 240_000);
afterAll(async () => project?.remove());

describe('createTestDatabase on the embedded cluster', () => {
  it('clones a template that holds the migrations, uuidv7() and the seeds; the template is marked and reused', async () => {
    const db = await createTestDatabase({ cwd: project.dir });
    expect(db.name).toMatch(/^pgstrap_test_[0-9a-f]{6}_\d+_\d+_[0-9a-f]+$/);
    const rows = await withClient({ connectionString: db.url }, async (c) => (await c.query("SELECT model, uuidv7() IS NOT NULL AS v7 FROM llm_requests")).rows);
    expect(rows).toEqual([{ model: 'seed-1', v7: true }]);
    const [template] = await databases('pgstrap_template_');
    expect(template).toMatchObject({ datistemplate: true });
    expect(template!.comment).toMatch(/^pgstrap template [0-9a-f]{12}$/);
    expect(template!.datname).toBe(`pgstrap_template_app_${template!.comment!.split(' ')[2]}`);
    // Another process finds it ready: no build.
    expect((await prepareTestTemplate({ cwd: project.dir, database: 'app', engine: 'embedded' })).built).toBe(false);
    await db.drop();
    expect(await databases(db.name)).toEqual([]);
  });

  it('parallel processes get isolated databases from one build of a changed template', async () => {
    const before = (await databases('pgstrap_template_'))[0]!.datname;
    seed('002_more.sql', "INSERT INTO llm_requests (model, request) VALUES ('seed-2', '{}');\n");
    const workers = Array.from({ length: 4 }, () => startWorker(2, 'done'));
    const lines = await Promise.all(workers.map((w) => w.line));
    expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0, 0, 0]);
    const names = lines.flatMap((l) => l.names);
    expect(new Set(names).size).toBe(8);
    // Each clone saw the two seeds and its own row only.
    expect(lines.flatMap((l) => l.rows)).toEqual(Array(8).fill(3));
    expect(lines.filter((l) => l.built)).toHaveLength(1);
    expect(new Set(lines.map((l) => l.template)).size).toBe(1);
    const templates = (await databases('pgstrap_template_')).map((d) => d.datname);
    expect(templates).toEqual([lines[0]!.template]);
    expect(templates).not.toContain(before);
    expect(await databases('pgstrap_test_')).toEqual([]);
  }, 120_000);

  it("reaps a killed run's clones: db:prune-test, and the next template build", async () => {
    const crashed = startWorker(2, 'hang');
    const { names } = await crashed.line;
    // A live run's clones are left alone.
    let prune = await runCli(['db:prune-test'], { cwd: project.dir });
    expect(prune.exitCode, String(prune.stderr)).toBe(0);
    expect(String(prune.stdout)).toContain(`kept ${names[0]}: its process still runs`);
    process.kill(crashed.pid, 'SIGKILL');
    await waitForExit(crashed.pid);
    expect((await databases('pgstrap_test_')).map((d) => d.datname).sort()).toEqual([...names].sort());
    prune = await runCli(['db:prune-test'], { cwd: project.dir });
    expect(prune.exitCode).toBe(0);
    for (const name of names) expect(String(prune.stdout)).toContain(`dropped ${name}`);
    expect(await databases('pgstrap_test_')).toEqual([]);

    // Again, and this time the reaper is the next template build (a seed changed).
    const again = startWorker(1, 'hang');
    const left = (await again.line).names;
    process.kill(again.pid, 'SIGKILL');
    await waitForExit(again.pid);
    seed('003_third.sql', "INSERT INTO llm_requests (model, request) VALUES ('seed-3', '{}');\n");
    const lines: string[] = [];
    // A process reads the files once; new options stand for a new test run, which reads them again.
    const fresh = await createTestDatabase({ cwd: project.dir, database: 'app', log: (l) => lines.push(l) });
    expect(lines).toContain(`reaped ${left[0]}`);
    expect((await databases('pgstrap_test_')).map((d) => d.datname)).toEqual([fresh.name]);
    await fresh.drop();
  }, 120_000);

  it("keeps a failed test's database when asked; the reaper leaves it, --all drops it", async () => {
    const kept = await createTestDatabase({ cwd: project.dir, database: 'app', keepFailed: true });
    const passed = await createTestDatabase({ cwd: project.dir, database: 'app', keepFailed: true });
    await passed.drop({ failed: false });
    await kept.drop({ failed: true });
    const rows = await databases('pgstrap_test_');
    expect(rows.map((r) => r.datname)).toEqual([kept.name]);
    expect(rows[0]!.comment).toMatch(/^pgstrap kept /);
    const plain = await pruneTestDatabasesOf({ cwd: project.dir });
    expect(plain.kept).toContainEqual({ name: kept.name, why: 'kept for a failed test (db:prune-test --all drops it)' });
    const all = await pruneTestDatabasesOf({ cwd: project.dir, all: true });
    expect(all.dropped).toContain(kept.name);
    expect(all.dropped.some((n) => n.startsWith('pgstrap_template_'))).toBe(true);
    expect(await databases('pgstrap_')).toEqual([]);
  });

  it('a failing seed fails the template build naming its file and line; no template is left under its name, and the next build reaps the half build', async () => {
    seed('004_broken.sql', "INSERT INTO llm_requests (model, request) VALUES ('seed-4', '{}');\nINSERT INTO nowhere VALUES (1);\n");
    // Options of their own: a process reads the files once per set of options.
    const options = { cwd: project.dir, config: 'extensions.config.mjs' };
    const error = await createTestDatabase(options).then(() => undefined, (e: unknown) => e);
    fs.rmSync(path.join(project.dir, 'seeds', '004_broken.sql'));
    expect(error).toMatchObject({ code: 'seed.failed' });
    expect((error as Error).message).toMatch(/^seeds\/004_broken\.sql:2:13: relation "nowhere" does not exist/);
    const left = (await databases('pgstrap_template_')).map((d) => d.datname);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/_build$/);
    const lines: string[] = [];
    const db = await createTestDatabase({ ...options, log: (l) => lines.push(l) });
    expect(lines).toContain(`reaped ${left[0]}`);
    const models = await withClient({ connectionString: db.url }, async (c) => (await c.query<{ model: string }>('SELECT model FROM llm_requests ORDER BY model')).rows.map((r) => r.model));
    expect(models).toEqual(['seed-1', 'seed-2', 'seed-3']);
    await db.drop();
  });
});

describe('package.json', () => {
  // The examples docs/testing.md shows run in test/testing/examples.test.ts.
  it('exports ./testing as plain JavaScript, importable without a TypeScript loader', async () => {
    const exported = await runNode(['--input-type=module', '-e', "const m = await import('pgstrap/testing'); console.log(typeof m.createTestDatabase)"], REPO_ROOT);
    expect(exported.stdout.trim(), exported.stderr).toBe('function');
  }, 120_000);
});

describe('the throwaway test cluster', () => {
  it('runs with fsync off, its data in memory where Linux has /dev/shm (else in <stateDir>/test-cluster), never the development data directory; db:prune-test --all removes it', async () => {
    const stateDir = path.join(project.dir, '.pgstrap');
    // A run that keeps it on disk (PGSTRAP_TEST_CLUSTER_MEMORY=0) first: the next run, in memory, replaces it.
    const memory = memoryDataDir(testClusterMemoryDir(), stateDir);
    if (memory !== undefined) {
      // /dev/shm is everyone's: a folder planted at the memory place (here a symlink elsewhere) is neither
      // removed through by a disk run nor used by a memory run.
      const planted = path.dirname(memory);
      const elsewhere = path.join(project.dir, 'elsewhere');
      fs.mkdirSync(path.join(elsewhere, 'data'), { recursive: true });
      fs.symlinkSync(elsewhere, planted);
      try {
        const disk = startWorker(1, 'done', project.dir, undefined, { PGSTRAP_TEST_CLUSTER: '1', PGSTRAP_TEST_CLUSTER_MEMORY: '0' });
        expect((await disk.line).rows).toHaveLength(1);
        expect(await disk.exited).toBe(0);
        expect(fs.existsSync(path.join(stateDir, 'test-cluster', 'data', 'PG_VERSION'))).toBe(true);
        expect(fs.existsSync(path.join(elsewhere, 'data'))).toBe(true);
        await expect(createTestDatabase({ cwd: project.dir, testCluster: true })).rejects.toMatchObject({ code: 'state.untrusted-folder' });
        expect(fs.existsSync(path.join(elsewhere, 'data'))).toBe(true);
      } finally {
        fs.unlinkSync(planted);
      }
    }
    const lines: string[] = [];
    const db = await createTestDatabase({ cwd: project.dir, testCluster: true, log: (l) => lines.push(l) });
    const url = new URL(db.url);
    expect(Number(url.port)).not.toBe(project.config.port);
    const row = await withClient({ connectionString: db.url }, async (c) =>
      (await c.query("SELECT current_setting('fsync') AS fsync, current_setting('full_page_writes') AS fpw, current_setting('data_directory') AS data, (SELECT count(*)::int FROM llm_requests) AS n")).rows[0],
    );
    expect(row).toMatchObject({ fsync: 'off', fpw: 'off' });
    expect(row.n).toBeGreaterThan(0);
    const devData = await withClient({ connectionString: adminUrl }, async (c) => (await c.query("SELECT current_setting('data_directory') AS d, current_setting('fsync') AS f")).rows[0]);
    expect(devData.f).toBe('on');
    expect(row.data).not.toBe(devData.d);
    if (memory !== undefined) {
      expect(row.data).toBe(memory);
      expect(lines).toContain(`removed the throwaway test cluster in ${path.join(stateDir, 'test-cluster')} (this run keeps it in ${memory})`);
      expect(fs.existsSync(path.join(stateDir, 'test-cluster', 'data'))).toBe(false);
    } else {
      expect(row.data.startsWith(path.join(stateDir, 'test-cluster'))).toBe(true);
    }
    // The development cluster has no clone of it.
    expect(await databases(db.name)).toEqual([]);
    await db.drop();
    const prune = await runCli(['db:prune-test', '--all'], { cwd: project.dir });
    expect(prune.exitCode, String(prune.stderr)).toBe(0);
    expect(String(prune.stdout)).toContain('dropped the throwaway test cluster (stopped, data removed)');
    expect(fs.existsSync(row.data)).toBe(false);
    if (memory !== undefined) expect(fs.existsSync(path.dirname(memory))).toBe(false);
  }, 120_000);
});

describe('createTestDatabase on an external Debian 15 server', () => {
  it('builds the template and clones through a URL without a database', async (ctx) => {
    const debian = await debianPostgres(15);
    if ('skip' in debian) return ctx.skip();
    const server = await makeProject();
    try {
      server.writeConfigFile({ port: server.config.port, engine: 'system', postgresMajor: 15, databases: ['app'] });
      const setup = await runCli(['setup'], { cwd: server.dir, env: { PG_BIN: debian.binDir } });
      expect(setup.exitCode, String(setup.stderr)).toBe(0);
      const password = fs.readFileSync(path.join(server.dir, '.pgstrap', 'password'), 'utf8').trim();
      const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${server.config.port}`;
      const workers = [startWorker(2, 'done', project.dir, url), startWorker(2, 'done', project.dir, url)];
      const lines = await Promise.all(workers.map((w) => w.line));
      expect(await Promise.all(workers.map((w) => w.exited))).toEqual([0, 0]);
      expect(new Set(lines.flatMap((l) => l.names)).size).toBe(4);
      expect(lines.filter((l) => l.built)).toHaveLength(1);
      expect(lines.flatMap((l) => l.rows)).toEqual([4, 4, 4, 4]);
      const version = await withClient({ connectionString: `${url}/postgres` }, async (c) => (await c.query('SHOW server_version_num')).rows[0].server_version_num as string);
      expect(version.startsWith('15')).toBe(true);
    } finally {
      await server.remove();
    }
  }, 240_000);
});

describe('createTestDatabase on embedded PostgreSQL 18', () => {
  it('clones a template with native uuidv7() and the migrations', async () => {
    const p18 = await makeProject();
    try {
      p18.writeConfigFile({ port: p18.config.port, engine: 'embedded', postgresMajor: 18, databases: ['app'] });
      fs.cpSync(path.join(REPO_ROOT, 'examples', 'migrations'), path.join(p18.dir, 'migrations'), { recursive: true });
      const setup = await runCli(['setup'], { cwd: p18.dir });
      expect(setup.exitCode, String(setup.stderr)).toBe(0);
      const [a, b] = await Promise.all([createTestDatabase({ cwd: p18.dir }), createTestDatabase({ cwd: p18.dir, strategy: 'FILE_COPY' })]);
      for (const db of [a!, b!]) {
        const row = await withClient({ connectionString: db.url }, async (c) =>
          (await c.query("SELECT current_setting('server_version_num')::int / 10000 AS major, to_regclass('llm_requests') IS NOT NULL AS migrated, to_regprocedure('public.uuidv7()') IS NULL AS native")).rows[0],
        );
        expect(row).toEqual({ major: 18, migrated: true, native: true });
      }
      expect(a!.name).not.toBe(b!.name);
      await Promise.all([a!.drop(), b!.drop()]);
    } finally {
      await p18.remove();
    }
  }, 240_000);
});
