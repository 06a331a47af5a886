/**
 * The daily loop as a user runs it, on real servers: db:seed and db:reset (seeds in order, each in a
 * transaction, errors with file:line, other sessions ended, only configured databases, external servers only
 * with the name typed back), env --database/--format, db:logs (--follow), and psql (Debian 15's; none that
 * fits the embedded 17).
 */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { REPO_ROOT, debianPostgres, makeProject, runCli, spawnCli, type TestProject } from '../support/project.ts';

let project: TestProject;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir });
let password: string;
const url = (db: string) => `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${project.config.port}/${db}`;
const models = (db: string) => withClient({ connectionString: url(db) }, async (c) => (await c.query<{ model: string }>('SELECT model FROM llm_requests ORDER BY created_at, model')).rows.map((r) => r.model));

function seed(name: string, sql: string): void {
  fs.mkdirSync(path.join(project.dir, 'seeds'), { recursive: true });
  fs.writeFileSync(path.join(project.dir, 'seeds', name), sql);
}

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({ port: project.config.port, engine: 'embedded', databases: ['app', 'app_test'] });
  fs.cpSync(path.join(REPO_ROOT, 'examples', 'migrations'), path.join(project.dir, 'migrations'), { recursive: true });
  const setup = await cli('setup');
  expect(setup.exitCode, String(setup.stderr)).toBe(0);
  password = fs.readFileSync(path.join(project.dir, '.pgstrap', 'password'), 'utf8').trim();
}, 240_000);
afterAll(async () => project?.remove());

describe('db:seed and db:reset', () => {
  it('db:seed applies seeds/*.sql in name order, in every database', async () => {
    seed('002_second.sql', "INSERT INTO llm_requests (model, request, created_at) VALUES ('second', '{}', now() + interval '1 s');\n");
    seed('001_first.sql', "INSERT INTO llm_requests (model, request) VALUES ('first', '{}');\n");
    const result = await cli('db:seed');
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const out = String(result.stdout);
    expect(out.indexOf('seeded app with seeds/001_first.sql')).toBeLessThan(out.indexOf('seeded app with seeds/002_second.sql'));
    expect(out).toContain('seeded app_test with seeds/002_second.sql');
    expect(await models('app')).toEqual(['first', 'second']);
  });

  it('a failing seed names file:line, rolls its file back and keeps the earlier ones', async () => {
    seed('003_broken.sql', "INSERT INTO llm_requests (model, request) VALUES ('third', '{}');\n\nINSERT INTO nowhere VALUES (1);\n");
    const result = await cli('db:seed', '--database', 'app_test');
    fs.rmSync(path.join(project.dir, 'seeds', '003_broken.sql'));
    expect(result.exitCode).toBe(ExitCode.database);
    const err = String(result.stderr);
    expect(err).toMatch(/error \[seed\.failed\] seeds\/003_broken\.sql:3:13: relation "nowhere" does not exist \(42P01\)/);
    expect(err).toContain('nothing of this file was applied: its transaction rolled back');
    expect((await models('app_test')).sort()).toEqual(['first', 'first', 'second', 'second']);
  });

  it('db:reset --database drops only that database (ending its sessions, and saying so) and rebuilds it with migrations and seeds', async () => {
    const holder = new pg.Client({ connectionString: url('app') });
    holder.on('error', () => {});
    await holder.connect();
    const ended = new Promise((resolve) => holder.once('error', resolve));
    const result = await cli('db:reset', '--database', 'app');
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const out = String(result.stdout);
    expect(out).toContain('dropped database app (ended 1 other session on it first)');
    expect(out).toContain('applied 20251025000040_create_llm_requests.sql to app');
    expect(out).toContain('seeded app with seeds/002_second.sql');
    expect(out).not.toContain('app_test');
    await ended;
    expect(await models('app')).toEqual(['first', 'second']);
    // app_test was left alone: it still has its rows from both db:seed runs.
    expect(await models('app_test')).toHaveLength(4);
    const json = JSON.parse(String((await cli('db:reset', '--json')).stdout)) as { ok: boolean; steps: Array<{ id: string; changes: string[] }> };
    expect(json.ok).toBe(true);
    expect(json.steps.find((s) => s.id === 'drop-databases')!.changes).toEqual([
      'dropped database app (no other session was connected)',
      'dropped database app_test (no other session was connected)',
    ]);
    expect(await models('app_test')).toEqual(['first', 'second']);
  });

  it('refuses a database the config does not name, and an external server without the name typed back', async () => {
    const unknown = await cli('db:reset', '--database', 'postgres');
    expect(unknown.exitCode).toBe(ExitCode.usage);
    expect(String(unknown.stderr)).toContain('--database postgres: not one of app, app_test');

    const external = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${project.config.port}`;
    const refused = await cli('db:reset', '--url', external, '--database', 'app_test');
    expect(refused.exitCode).toBe(ExitCode.usage);
    expect(String(refused.stderr)).toContain('[reset.external-needs-confirmation] db:reset on an external server drops app_test');
    expect(String(refused.stderr)).toContain('--yes-drop app_test');
    expect(String(refused.stderr)).not.toContain(password);
    const wrong = await cli('db:reset', '--url', external, '--database', 'app_test', '--yes-drop', 'app');
    expect(wrong.exitCode).toBe(ExitCode.usage);
    const named = await cli('db:reset', '--url', `${external}/app_test`, '--yes-drop', 'app_test');
    expect(named.exitCode).toBe(ExitCode.usage);
    expect(String(named.stderr)).toContain('[reset.url-names-database]');
    expect(await models('app_test')).toEqual(['first', 'second']);

    const confirmed = await cli('db:reset', '--url', external, '--database', 'app_test', '--yes-drop', 'app_test');
    expect(confirmed.exitCode, String(confirmed.stderr)).toBe(0);
    expect(String(confirmed.stdout)).toContain('dropped database app_test');
    expect(await models('app_test')).toEqual(['first', 'second']);
  });
});

describe('env', () => {
  it('--database and --format shell|dotenv|json', async () => {
    const shell = String((await cli('env', '--database', 'app_test')).stdout);
    expect(shell).toContain("export PGDATABASE='app_test'");
    expect(shell).toMatch(/^export DATABASE_URL='postgresql:\/\/postgres:.+@127\.0\.0\.1:\d+\/app_test'$/m);
    const dotenv = String((await cli('env', '--format', 'dotenv')).stdout);
    expect(dotenv).toContain("PGDATABASE='app'");
    expect(dotenv).not.toContain('export ');
    const json = JSON.parse(String((await cli('env', '--format', 'json', '--database', 'app_test')).stdout)) as Record<string, string>;
    expect(json.PGDATABASE).toBe('app_test');
    // What the URL says works.
    expect(await withClient({ connectionString: json.DATABASE_URL! }, async (c) => (await c.query('SELECT current_database() AS d')).rows[0].d)).toBe('app_test');
    const bad = await cli('env', '--format', 'yaml');
    expect(bad.exitCode).toBe(ExitCode.usage);
    expect(String(bad.stderr)).toContain('--format must be one of shell, dotenv, json');
    expect((await cli('env', '--database', 'nope')).exitCode).toBe(ExitCode.usage);
  });
});

describe('db:logs', () => {
  it('prints the server log, and --follow prints what the server adds', async () => {
    const logs = await cli('db:logs', '--lines', 'all');
    expect(logs.exitCode).toBe(0);
    expect(String(logs.stdout)).toMatch(/database system is ready to accept connections/);
    const follow = spawnCli(['db:logs', '--follow', '--lines', '0'], { cwd: project.dir });
    try {
      await follow.waitFor(/following .*Ctrl-C stops/);
      await withClient({ connectionString: url('app') }, (c) => c.query('SELECT pgstrap_follow_marker()').catch(() => {}));
      await follow.waitFor(/function pgstrap_follow_marker\(\) does not exist/, 20_000);
    } finally {
      follow.killGroup();
    }
    const external = await cli('db:logs', '--url', url('app'));
    expect(external.exitCode).toBe(ExitCode.usage);
    expect(String(external.stderr)).toContain('[logs.external]');
  });
});

describe('psql', () => {
  it('says where to get a psql when none fits the server (embedded 17 here has no psql 17 or newer)', async (ctx) => {
    const fits = ['/usr/lib/postgresql/17/bin/psql', '/usr/lib/postgresql/18/bin/psql'].some((p) => fs.existsSync(p));
    if (fits) return ctx.skip();
    const result = await runCli(['psql', '--', '-c', 'SELECT 1'], { cwd: project.dir, env: { PATH: '/usr/bin:/bin', PG_BIN: undefined } });
    expect(result.exitCode).toBe(ExitCode.environment);
    const err = String(result.stderr);
    expect(err).toContain('[psql.missing] no psql 17 or newer was found for this PostgreSQL 17 server');
    expect(err).toMatch(/psql 15\.\d+, older than the server/);
    expect(err).toContain('apt install postgresql-client-17');
    expect(err).toContain('nix develop');
    expect(err).toContain('brew install libpq');
  });

  it("runs Debian 15's psql against a Debian 15 cluster, with the arguments after --", async (ctx) => {
    const debian = await debianPostgres(15);
    if ('skip' in debian) return ctx.skip();
    const server = await makeProject();
    try {
      server.writeConfigFile({ port: server.config.port, engine: 'system', postgresMajor: 15, databases: ['app', 'other'] });
      const env = { PG_BIN: debian.binDir };
      const setup = await runCli(['setup'], { cwd: server.dir, env });
      expect(setup.exitCode, String(setup.stderr)).toBe(0);
      const result = await runCli(['psql', '--database', 'other', '--', '-tAc', 'SELECT current_database(), current_setting($$server_version_num$$)'], { cwd: server.dir, env });
      expect(result.exitCode, String(result.stderr)).toBe(0);
      expect(String(result.stdout).trim()).toMatch(/^other\|150\d+$/);
      expect(String(result.stderr)).toContain(`${debian.binDir}/psql (psql 15.`);
      // psql's own exit code comes back.
      const failed = await runCli(['psql', '--', '-v', 'ON_ERROR_STOP=1', '-c', 'SELECT * FROM nowhere'], { cwd: server.dir, env });
      expect(failed.exitCode).not.toBe(0);
      expect(String(failed.stderr)).toContain('relation "nowhere" does not exist');
    } finally {
      await server.remove();
    }
  }, 240_000);
});
