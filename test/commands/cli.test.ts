/** The command line as a user meets it: exit codes, --json, env, status, errors rendered once. */
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../scripts/cli.ts';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { makeProject, REPO_ROOT, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({ port: project.config.port, databases: ['app'], engine: 'embedded' });
});
afterAll(async () => project?.remove());

describe('pgstrap CLI', () => {
  it('refuses a bad config with exit 2, naming the file and every bad key', async () => {
    const bad = await makeProject();
    try {
      const file = bad.writeConfigFile({ databases: ['ok', 'not-ok'], prot: 1 });
      const result = await runCli(['setup'], { cwd: bad.dir });
      expect(result.exitCode).toBe(ExitCode.usage);
      const stderr = String(result.stderr);
      expect(stderr).toContain(`[config.invalid] ${file} has 2 problems`);
      expect(stderr).toContain('databases[1]: "not-ok" is not a valid identifier');
      expect(stderr).toContain('prot: unknown key (did you mean "port"?)');
      expect(stderr.match(/config\.invalid/g)).toHaveLength(1);
    } finally {
      await bad.remove();
    }
  });

  it('sets up with plain output off a terminal, then reports nothing to do', async () => {
    const first = await runCli(['setup'], { cwd: project.dir });
    expect(first.exitCode, String(first.stderr)).toBe(0);
    expect(String(first.stdout)).toMatch(/Create databases: created database app/);
    // A cluster made by this run: its databases are copied file by file, nothing left for the next checkpoint.
    expect(String(first.stdout)).toContain('CREATE DATABASE "app" STRATEGY FILE_COPY');
    const second = await runCli(['setup'], { cwd: project.dir });
    expect(second.exitCode).toBe(0);
    expect(String(second.stdout).trim().split('\n').at(-1)).toMatch(/^Nothing to do: everything is up to date/);
  });

  it('creates a database added later to a cluster that holds data with the default strategy', async () => {
    project.writeConfigFile({ port: project.config.port, databases: ['app', 'added_later'], engine: 'embedded' });
    try {
      const result = await runCli(['setup'], { cwd: project.dir });
      expect(result.exitCode, String(result.stderr)).toBe(0);
      expect(String(result.stdout)).toMatch(/CREATE DATABASE "added_later"$/m);
      expect(String(result.stdout)).toMatch(/created database added_later/);
    } finally {
      project.writeConfigFile({ port: project.config.port, databases: ['app'], engine: 'embedded' });
    }
  });

  it('prints one JSON document with --json', async () => {
    const result = await runCli(['setup', '--json'], { cwd: project.dir });
    expect(result.exitCode).toBe(0);
    const doc = JSON.parse(String(result.stdout)) as { ok: boolean; changed: boolean; steps: Array<{ id: string; status: string }> };
    expect(doc.ok).toBe(true);
    expect(doc.changed).toBe(false);
    const ids = doc.steps.map((s) => s.id);
    expect(ids.filter((id) => ['cluster', 'settings', 'start', 'databases'].includes(id))).toEqual(['cluster', 'settings', 'start', 'databases']);
    expect(doc.steps.every((s) => s.status === 'unchanged' || s.status === 'skipped' || s.status === 'warning')).toBe(true);
  });

  it('prints shell exports that psql-compatible clients can use', async () => {
    const result = await runCli(['env'], { cwd: project.dir });
    const out = String(result.stdout);
    expect(out).toContain(`export PGPORT='${project.config.port}'`);
    expect(out).toContain(`export PGHOST='${project.config.stateDir}/run'`);
    expect(out).toMatch(new RegExp(`export DATABASE_URL='postgresql://postgres:[^@']+@127\\.0\\.0\\.1:${project.config.port}/app'`));
  });

  it('with --socket, gives a DATABASE_URL through the private socket, without the password, that pg connects with', async () => {
    const result = await runCli(['env', '--socket', '--format', 'json'], { cwd: project.dir });
    expect(result.exitCode, String(result.stderr)).toBe(0);
    const vars = JSON.parse(String(result.stdout)) as Record<string, string>;
    const socketDir = `${project.config.stateDir}/run`;
    expect(vars.DATABASE_URL).toBe(`postgresql://postgres@localhost:${project.config.port}/app?host=${encodeURIComponent(socketDir)}`);
    expect(vars.DATABASE_URL).not.toContain(fs.readFileSync(path.join(project.config.stateDir, 'password'), 'utf8').trim());
    const client = new pg.Client({ connectionString: vars.DATABASE_URL });
    await client.connect();
    try {
      // No server address: the session came through the Unix socket.
      expect((await client.query('SELECT inet_server_addr() AS addr, current_database() AS db')).rows).toEqual([{ addr: null, db: 'app' }]);
    } finally {
      await client.end();
    }
    const byUrl = await runCli(['env', '--socket', '--url', 'postgresql://u@db.example/app'], { cwd: project.dir });
    expect(byUrl.exitCode).toBe(ExitCode.usage);
    expect(String(byUrl.stderr)).toContain("--socket is for the project's cluster");
  });

  it('reports status with exit 0 when running and 1 when stopped', async () => {
    const running = await runCli(['status', '--json'], { cwd: project.dir });
    expect(running.exitCode).toBe(0);
    expect(JSON.parse(String(running.stdout))).toMatchObject({ running: true, port: project.config.port, version: expect.stringMatching(/^17\./) });
    const stop = await runCli(['stop'], { cwd: project.dir });
    expect(String(stop.stdout)).toContain('Stopped the cluster.');
    const stopped = await runCli(['status'], { cwd: project.dir });
    expect(stopped.exitCode).toBe(1);
    expect(String(stopped.stdout)).toContain('stopped (npm run db:start starts it)');
    const start = await runCli(['start'], { cwd: project.dir });
    expect(start.exitCode).toBe(0);
  });

  it('renders errors as JSON with --json', async () => {
    const result = await runCli(['status', '--json', '--url', 'postgres://h/db'], { cwd: project.dir });
    expect(result.exitCode).toBe(ExitCode.usage);
    expect(JSON.parse(String(result.stdout))).toMatchObject({ ok: false, error: { code: 'engine.no-lifecycle' } });
  });

  it('refuses unknown commands and flags with exit 2', async () => {
    expect((await runCli(['stup'], { cwd: project.dir })).exitCode).toBe(ExitCode.usage);
    const flag = await runCli(['setup', '--jsno'], { cwd: project.dir });
    expect(flag.exitCode).toBe(ExitCode.usage);
    expect(String(flag.stderr)).toContain("Unknown option '--jsno'");
  });

  it('refuses an unknown flag and a stray word for every command, naming it', async () => {
    for (const name of Object.keys(COMMANDS)) {
      const flag = await runCli([name, '--nope'], { cwd: project.dir });
      expect(flag.exitCode, name).toBe(ExitCode.usage);
      expect(String(flag.stderr), name).toContain("Unknown option '--nope'");
      if (name === 'migrate:new') continue;
      const word = await runCli([name, 'stray'], { cwd: project.dir });
      expect(word.exitCode, name).toBe(ExitCode.usage);
      expect(String(word.stderr), name).toContain(`${name} takes no argument "stray"`);
    }
  });

  it('loads a TypeScript config, and sees an edit to it on the next run', async () => {
    const ts = await makeProject();
    try {
      const write = (port: number) =>
        fs.writeFileSync(
          path.join(ts.dir, 'extensions.config.ts'),
          [
            `import { defineConfig } from ${JSON.stringify(path.join(REPO_ROOT, 'scripts/index.ts'))};`,
            `const port: number = ${port};`,
            `export default defineConfig({ port, databases: ['shop'] });`,
          ].join('\n'),
        );
      write(6001);
      const first = await runCli(['env', '--json'], { cwd: ts.dir });
      expect(first.exitCode, String(first.stderr)).toBe(0);
      expect(JSON.parse(String(first.stdout))).toMatchObject({ PGPORT: '6001', PGDATABASE: 'shop' });
      // A different mtime, as an editor's save gives.
      write(6002);
      fs.utimesSync(path.join(ts.dir, 'extensions.config.ts'), new Date(), new Date(Date.now() + 2000));
      const second = await runCli(['env', '--json'], { cwd: ts.dir });
      expect(JSON.parse(String(second.stdout))).toMatchObject({ PGPORT: '6002' });
    } finally {
      await ts.remove();
    }
  });
});
