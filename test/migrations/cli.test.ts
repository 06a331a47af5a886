/** The migrate commands as a user runs them: output, --json, exit codes, drift, down, and an external server by URL. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { REPO_ROOT, makeProject, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;
let file: string;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir });

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({ port: project.config.port, engine: 'embedded', databases: ['app', 'app_test'] });
  fs.cpSync(path.join(REPO_ROOT, 'examples', 'migrations'), path.join(project.dir, 'migrations'), { recursive: true });
});
afterAll(async () => project?.remove());

describe('migrate commands', () => {
  it('setup applies the shipped migrations after uuidv7() exists, in every database', async () => {
    const setup = await cli('setup');
    expect(setup.exitCode, String(setup.stderr)).toBe(0);
    const out = String(setup.stdout);
    expect(out).toMatch(/applied 20251025000040_create_llm_requests\.sql to app \(/);
    expect(out).toMatch(/applied 20251026000000_create_chat_messages\.sql to app_test \(/);
    expect(out.indexOf('Apply migrations')).toBeGreaterThan(out.indexOf('uuidv7()'));
  });

  it('creates a file, shows it pending (exit 6), dry-runs, applies it to every database, then is up to date', async () => {
    const created = await cli('migrate:new', 'create', 'widgets');
    expect(created.exitCode).toBe(0);
    const [, relative] = /^Created (.+)$/m.exec(String(created.stdout))!;
    file = path.join(project.dir, relative!);
    expect(path.basename(file)).toMatch(/^\d{14}_create_widgets\.sql$/);
    fs.writeFileSync(file, 'CREATE TABLE widgets (id uuid PRIMARY KEY DEFAULT gen_random_uuid());\n-- pgstrap:down\nDROP TABLE widgets;\n');

    const pending = await cli('migrate:status');
    expect(pending.exitCode).toBe(ExitCode.pending);
    expect(String(pending.stdout)).toMatch(/^app \(migrations\/\): 2 applied, 1 pending, 0 drifted$/m);
    expect(String(pending.stdout)).toMatch(/^ {2}pending {2}\d{14} {2}create_widgets$/m);
    const json = JSON.parse(String((await cli('migrate:status', '--json')).stdout)) as { upToDate: boolean; databases: Array<{ database: string; pending: unknown[] }> };
    expect(json.upToDate).toBe(false);
    expect(json.databases.map((d) => [d.database, d.pending.length])).toEqual([['app', 1], ['app_test', 1]]);

    const dry = await cli('migrate', '--dry-run');
    expect(dry.exitCode).toBe(0);
    expect(String(dry.stdout)).toContain(`app: would apply 1 migration, in this order:\n  ${relative}`);
    expect((await cli('migrate:status')).exitCode).toBe(ExitCode.pending);
    // `npm run migrate -- -- --dry-run`: the flag arrives after a `--`, as a word; it must not apply.
    const extraSeparator = await cli('migrate', '--', '--dry-run');
    expect(extraSeparator.exitCode).toBe(ExitCode.usage);
    expect(String(extraSeparator.stderr)).toContain('migrate takes no argument "--dry-run" (after a `--`');
    expect((await cli('migrate:status')).exitCode).toBe(ExitCode.pending);

    const applied = await cli('migrate');
    expect(applied.exitCode, String(applied.stderr)).toBe(0);
    expect(String(applied.stdout)).toMatch(/applied \d+_create_widgets\.sql to app_test/);
    expect(String(applied.stdout).trim().split('\n').at(-1)).toBe('Done: 2 changes in migrations.');
    const upToDate = await cli('migrate:status');
    expect(upToDate.exitCode).toBe(0);
    expect(String(upToDate.stdout)).toMatch(/\nUp to date\.$/);
    expect(String((await cli('setup')).stdout).trim().split('\n').at(-1)).toMatch(/^Nothing to do: everything is up to date/);
  });

  it('refuses drift with exit 5 and the way to accept it; a mistyped --accept changes nothing', async () => {
    const version = path.basename(file).split('_')[0]!;
    fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace('PRIMARY KEY', 'PRIMARY KEY NOT NULL'));
    const drift = await cli('migrate');
    expect(drift.exitCode).toBe(ExitCode.database);
    const stderr = String(drift.stderr);
    expect(stderr).toMatch(/error \[migrate\.drift\] database app: a migration no longer matches what was applied; nothing was applied/);
    expect(stderr).toContain(`fix: Restore the file (git checkout) if the change was a mistake. If it was intended, accept it: \`npm run migrate -- --accept ${version}\``);
    expect(stderr.match(/migrate\.drift/g)).toHaveLength(1);
    expect((await cli('migrate:status')).exitCode).toBe(ExitCode.pending);
    const dry = await cli('migrate', '--dry-run', '--json');
    expect(dry.exitCode).toBe(ExitCode.database);
    expect(JSON.parse(String(dry.stdout))).toMatchObject({ ok: false, dryRun: true, error: { code: 'migrate.drift' } });
    const typo = await cli('migrate', '--accept', '123');
    expect(typo.exitCode).toBe(ExitCode.usage);
    expect(String(typo.stderr)).toContain(`[migrate.nothing-to-accept] --accept 123: no such migration drifted in any database`);
    const accepted = await cli('migrate', '--accept', version);
    expect(accepted.exitCode, String(accepted.stderr)).toBe(0);
    expect(String(accepted.stdout)).toMatch(/accepted the edit of \d+_create_widgets\.sql/);
    expect((await cli('migrate:status')).exitCode).toBe(0);
  });

  it('shows a failing statement once, as file:line:col with a caret', async () => {
    const bad = path.join(path.dirname(file), '99999999999999_bad.sql');
    fs.writeFileSync(bad, 'SELECT 1;\nSELECT nonexistent_column FROM widgets;\n');
    try {
      const result = await cli('migrate', '--database', 'app');
      expect(result.exitCode).toBe(ExitCode.database);
      const stderr = String(result.stderr);
      expect(stderr).toContain('error [migrate.failed] migrations/99999999999999_bad.sql:2:8: column "nonexistent_column" does not exist (42703)');
      expect(stderr).toContain('  2 | SELECT nonexistent_column FROM widgets;\n    |        ^');
      expect(stderr.match(/migrate\.failed/g)).toHaveLength(1);
    } finally {
      fs.rmSync(bad);
    }
  });

  it('reverts the last migration with migrate:down, and works the same against a server by URL', async () => {
    expect(String((await cli('migrate:down', '--dry-run')).stdout)).toMatch(/^app: would revert migrations\/\d+_create_widgets\.sql \(1 statement in its down section\)$/m);
    const down = await cli('migrate:down');
    expect(down.exitCode, String(down.stderr)).toBe(0);
    expect(String(down.stdout)).toMatch(/reverted \d+_create_widgets\.sql on app_test/);

    const password = fs.readFileSync(path.join(project.config.stateDir, 'password'), 'utf8').trim();
    const url = `postgresql://postgres:${encodeURIComponent(password)}@127.0.0.1:${project.config.port}/app`;
    const external = await cli('migrate', '--url', url);
    expect(external.exitCode, String(external.stderr)).toBe(0);
    expect(String(external.stdout)).toMatch(/^pgstrap: external server 127\.0\.0\.1:\d+\/app/);
    expect(String(external.stdout)).toMatch(/applied \d+_create_widgets\.sql to app \(/);
    expect((await cli('migrate:status', '--url', url)).exitCode).toBe(0);
    const local = JSON.parse(String((await cli('migrate:status', '--json')).stdout)) as { databases: Array<{ database: string; pending: unknown[] }> };
    expect(local.databases.map((d) => [d.database, d.pending.length])).toEqual([['app', 0], ['app_test', 1]]);
    // The next migrate:down on app_test reverts a shipped file.
    expect(String((await cli('migrate:down', '--database', 'app_test')).stdout)).toMatch(/reverted 20251026000000_create_chat_messages\.sql on app_test/);
  });
});
