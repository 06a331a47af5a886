/**
 * The hand-off to the app's own migrator, with the real node-pg-migrate on the embedded PostgreSQL 17: setup
 * and migrate say that it ran, where, how it ended and how long it took; migrate:status says what pgstrap
 * cannot see and runs migrations.statusCommand (exit 6 when it fails); a failure shows the lines that
 * carry the error, which node-pg-migrate prints above its stack dump.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { REPO_ROOT, makeProject, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir });
const migrator = path.join(REPO_ROOT, 'node_modules/.bin/node-pg-migrate');
const command = [migrator, 'up', '-m', 'app-migrations', '--no-verbose'];
const shown = command.join(' ');

/** The app's status command: exits 1 and names the files node-pg-migrate has not run yet. */
const STATUS_SCRIPT = `
import fs from 'node:fs';
import pg from 'pg';
const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
await client.connect();
const exists = (await client.query("SELECT to_regclass('pgmigrations') IS NOT NULL AS t")).rows[0].t;
const done = exists ? (await client.query('SELECT name FROM pgmigrations')).rows.map((r) => r.name) : [];
await client.end();
const pending = fs.readdirSync('app-migrations').map((f) => f.replace(/\\.sql$/, '')).filter((n) => !done.includes(n));
for (const name of pending) console.log('pending: ' + name);
if (pending.length === 0) console.log('all ' + done.length + ' applied');
process.exit(pending.length === 0 ? 0 : 1);
`;

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({
    port: project.config.port,
    engine: 'embedded',
    databases: ['app'],
    migrations: { command, statusCommand: ['node', 'status.mjs'] },
  });
  fs.writeFileSync(path.join(project.dir, 'status.mjs'), STATUS_SCRIPT);
  fs.mkdirSync(path.join(project.dir, 'app-migrations'));
  fs.writeFileSync(path.join(project.dir, 'app-migrations', '1_items.sql'), '-- Up Migration\nCREATE TABLE items (id int);\n-- Down Migration\nDROP TABLE items;\n');
});
afterAll(async () => project?.remove());

describe("the app's own migrator", () => {
  it('setup and migrate report that it ran, on which database, how it ended and how long it took', async () => {
    const setup = await cli('setup');
    expect(setup.exitCode, String(setup.stderr)).toBe(0);
    const last = String(setup.stdout).trim().split('\n').at(-1)!;
    expect(last).toMatch(new RegExp(`^Done: .*\\. Ran \`${shown.replaceAll('/', '\\/')}\` on database app: it succeeded \\(exit 0\\) in \\d+\\.\\d\\d s; what it changed is in its output above\\.$`));
    const again = String((await cli('migrate')).stdout).trim().split('\n').at(-1)!;
    expect(again).toMatch(/^pgstrap had nothing to do\. Ran `.+` on database app: it succeeded \(exit 0\) in \d+\.\d\d s; what it changed is in its output above\.$/);
    expect(again).not.toContain('Nothing to do');
  });

  it('migrate:status says what pgstrap cannot see and gates on the status command', async () => {
    const ok = await cli('migrate:status');
    expect(ok.exitCode, String(ok.stderr)).toBe(0);
    expect(String(ok.stdout)).toContain(`app: migrations.command runs \`${shown}\`; pgstrap cannot see what it has applied\n`);
    expect(String(ok.stdout)).toContain('app: `node status.mjs` (migrations.statusCommand) exited 0: up to date\n  all 1 applied\n');
    expect(String(ok.stdout).trim().split('\n').at(-1)).toBe("Up to date: pgstrap's runner and the app's own migrator's status command agree.");

    fs.writeFileSync(path.join(project.dir, 'app-migrations', '2_more.sql'), '-- Up Migration\nALTER TABLE items ADD COLUMN name text;\n');
    const pending = await cli('migrate:status');
    expect(pending.exitCode).toBe(ExitCode.pending);
    expect(String(pending.stdout)).toContain('app: `node status.mjs` (migrations.statusCommand) ended with exit code 1: not up to date\n  pending: 2_more\n');
    const json = JSON.parse(String((await cli('migrate:status', '--json')).stdout)) as { upToDate: boolean; databases: Array<{ appMigrator: { exitCode: number; output: string[] } }> };
    expect(json.upToDate).toBe(false);
    expect(json.databases[0]!.appMigrator).toMatchObject({ exitCode: 1, output: ['pending: 2_more'] });
  });

  it('shows the lines that carry the error when the migrator fails, not only its stack dump', async () => {
    fs.writeFileSync(path.join(project.dir, 'app-migrations', '2_more.sql'), "-- Up Migration\nINSERT INTO items VALUES ('not a number');\n");
    const failed = await cli('migrate');
    const stderr = String(failed.stderr);
    if (process.env.SHOW_STDERR) console.log(stderr);
    expect(failed.exitCode, stderr).toBe(ExitCode.database);
    expect(stderr).toContain(`\`${shown}\` failed on database app: exit code 1`);
    const errorsAt = stderr.indexOf('the lines that name the error:');
    expect(errorsAt).toBeGreaterThan(0);
    const cause = stderr.indexOf('invalid input syntax for type integer: "not a number"');
    expect(cause).toBeGreaterThan(errorsAt);
    expect(cause).toBeLessThan(stderr.indexOf('then its last lines:'));
    // Stack frames are left out of the error lines.
    expect(stderr.slice(errorsAt, stderr.indexOf('then its last lines:'))).not.toMatch(/\n\s+at /);
  });
});
