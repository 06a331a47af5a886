/**
 * A declared database that an interrupted DROP DATABASE left invalid (PostgreSQL marks it with datconnlimit
 * -2 before it removes files, and then allows nothing but a drop): setup drops and creates it on the
 * project's cluster, and says so; on a server by URL it stops with the statement for the owner.
 */
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { planDatabases } from '../../scripts/databases/plan.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { selectTarget } from '../../scripts/server/select.ts';
import { readPassword } from '../../scripts/server/target.ts';
import type { PgstrapError } from '../../scripts/shared/errors.ts';
import { makeProject, managedTarget, query, runCli, runStepsQuietly, testEnv, type TestProject } from '../support/project.ts';

describe('planDatabases', () => {
  it('creates what is missing and rebuilds what is invalid, in config order, and leaves undeclared ones alone', () => {
    const existing = new Map([
      ['app', { invalid: true }],
      ['jobs', { invalid: false }],
      ['old', { invalid: true }],
    ]);
    expect(planDatabases(['app', 'jobs', 'new'], existing)).toEqual({ create: ['app', 'new'], rebuild: ['app'] });
    expect(planDatabases(['jobs'], existing)).toEqual({ create: [], rebuild: [] });
  });
});

describe('an invalid database', () => {
  let project: TestProject;

  beforeAll(async () => {
    project = await makeProject({ databases: ['app', 'jobs'], engine: 'embedded' });
    project.writeConfigFile({ databases: ['app', 'jobs'], port: project.config.port, engine: 'embedded' });
    const first = await runCli(['setup'], { cwd: project.dir });
    expect(first.exitCode, String(first.stderr)).toBe(0);
  });
  afterAll(async () => project?.remove());

  /** Marks `name` as an interrupted DROP DATABASE does (dropdb's in-place update of datconnlimit). */
  async function leaveInvalid(name: string): Promise<void> {
    const target = await managedTarget(project);
    await query(target, name, 'CREATE TABLE kept (id int)');
    await query(target, 'postgres', `UPDATE pg_database SET datconnlimit = -2 WHERE datname = '${name}'`);
    const error = await query(target, name, 'SELECT 1').catch((e: unknown) => e as PgstrapError);
    expect(error).toMatchObject({ code: 'db.unavailable-database', message: expect.stringContaining(`invalid database "${name}"`) });
  }

  it('stops setup by URL with the statement for the server\'s owner, and drops nothing', async () => {
    await leaveInvalid('app');
    const target = await managedTarget(project);
    const url = `postgresql://postgres:${encodeURIComponent(readPassword(target.layout)!)}@127.0.0.1:${project.config.port}/`;
    const config = resolveConfig({ databases: ['app', 'jobs'], port: project.config.port }, { file: path.join(project.dir, 'extensions.config.mjs'), projectDir: project.dir });
    const external = await selectTarget(config, { url, env: testEnv() });
    const error = (await runStepsQuietly([databasesStep], config, external).catch((e: unknown) => e)) as PgstrapError;
    expect(error).toMatchObject({ code: 'databases.invalid', details: ['DROP DATABASE IF EXISTS "app";'] });
    expect(error.message).toMatch(/^database app is invalid: an interrupted DROP DATABASE left it half removed/);
    expect(await query(target, 'postgres', "SELECT datconnlimit FROM pg_database WHERE datname = 'app'")).toEqual([{ datconnlimit: -2 }]);
  });

  it('drops and creates it on the project\'s cluster, saying so, and a second run has nothing to do', async () => {
    const healed = await runCli(['setup'], { cwd: project.dir });
    expect(healed.exitCode, `${healed.stdout}\n${healed.stderr}`).toBe(0);
    expect(healed.stdout).toContain('DROP DATABASE IF EXISTS "app"');
    expect(healed.stdout).toContain('dropped database app, which an interrupted DROP DATABASE had left invalid (nothing could open it)');
    expect(healed.stdout).toContain('created database app');
    const target = await managedTarget(project);
    expect(await query(target, 'app', "SELECT to_regclass('kept') IS NULL AS gone")).toEqual([{ gone: true }]);
    // The other database was not touched.
    expect(await query(target, 'jobs', "SELECT count(*)::int AS n FROM pg_database WHERE datconnlimit = -2")).toEqual([{ n: 0 }]);
    const again = await runCli(['setup'], { cwd: project.dir });
    expect(again.stdout).toContain('Nothing to do: everything is up to date');
  });
});
