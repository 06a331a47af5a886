/** No secret in any output: URL passwords in errors, and the app migrator's output that pgstrap repeats. */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { freePort, makeProject, managedTarget, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;
const cli = (...args: string[]) => runCli(args, { cwd: project.dir });
// A migrator that echoes every secret it was handed, then fails.
const leaky = ['sh', '-c', 'echo "DATABASE_URL=$DATABASE_URL"; echo "PGPASSWORD=$PGPASSWORD"; exit 3'];

beforeAll(async () => {
  project = await makeProject({ engine: 'embedded' });
  project.writeConfigFile({ engine: 'embedded', port: project.config.port, databases: ['app'], migrations: { builtIn: false, command: leaky } });
});
afterAll(async () => project?.remove());

describe('secrets in output', () => {
  it('masks a ?password= URL in a connect error, as text and as JSON', async () => {
    const url = `postgresql://postgres@127.0.0.1:${await freePort()}/app?password=Hunter2-in-query&sslmode=disable`;
    const text = await cli('migrate:status', '--url', url);
    expect(text.exitCode).not.toBe(ExitCode.ok);
    expect(String(text.stderr)).toContain('?password=***&sslmode=disable');
    const json = await cli('migrate:status', '--json', '--url', url.replace('?', '?x=1&'));
    expect(String(json.stdout)).toContain('"code": "db.connect-failed"');
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(String(out)).not.toContain('Hunter2-in-query');
  });

  it("scrubs the cluster's password from the migrator's output, streamed and repeated in the error", async () => {
    const result = await cli('setup');
    expect(result.exitCode).toBe(ExitCode.database);
    const password = fs.readFileSync((await managedTarget(project)).layout.passwordFile, 'utf8').trim();
    expect(password.length).toBeGreaterThan(8);
    const all = `${String(result.stdout)}\n${String(result.stderr)}`;
    expect(String(result.stderr)).toContain('[migrate.command-failed]');
    expect(String(result.stderr)).toMatch(/DATABASE_URL=postgresql:\/\/postgres:\*\*\*@127\.0\.0\.1:\d+\/app/);
    expect(String(result.stderr)).toContain('PGPASSWORD=***');
    expect(all).not.toContain(password);
  });

  it('scrubs a password given as ?password= from the migrator output of an external run, as text and JSON', async () => {
    const password = fs.readFileSync((await managedTarget(project)).layout.passwordFile, 'utf8').trim();
    const url = `postgresql://postgres@127.0.0.1:${project.config.port}/app?password=${encodeURIComponent(password)}`;
    // Its own command line holds the secret too: the task list's failure line and the error show it masked.
    const echoes = ['sh', '-c', `echo "DATABASE_URL=$DATABASE_URL"; test "$PGPASSWORD" = "${password}-not"`];
    project.writeConfigFile({ engine: 'embedded', port: project.config.port, databases: ['app'], migrations: { builtIn: false, command: echoes } });
    const text = await cli('migrate', '--url', url);
    expect(text.exitCode).toBe(ExitCode.database);
    expect(String(text.stderr)).toContain('[migrate.command-failed]');
    expect(String(text.stderr)).toContain('?password=***');
    expect(String(text.stderr)).toContain('test "$PGPASSWORD" = "***-not"');
    const json = await cli('migrate', '--json', '--url', url);
    expect((JSON.parse(String(json.stdout)) as { error: { code: string } }).error.code).toBe('migrate.command-failed');
    for (const out of [text.stdout, text.stderr, json.stdout, json.stderr]) expect(String(out)).not.toContain(password);
  });
});
