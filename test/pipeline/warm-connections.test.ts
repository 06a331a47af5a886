/**
 * What a warm `setup` asks of the server, read from the server's own log (log_connections and
 * log_disconnections): one session per configured database and none to the maintenance database, opened
 * before the first step; every session ends with the protocol's goodbye even though the CLI does not wait
 * for the backends to exit (a session cut without it shows in the log at debug1, the control proves); and a database added to the config is still created (its early connect fails
 * and the listing goes through the maintenance database). A real embedded PostgreSQL 17 and the real CLI.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;
// Declared extensions make the extensions step ask the server-wide questions too (on the first database's session).
const extensions = ['pgcrypto', { name: 'vector', required: false }];
// debug1: a session that ends without the protocol's Terminate (outside a transaction) is logged only at that level.
const settings = { log_connections: 'on', log_disconnections: 'on', log_min_messages: 'debug1' };

beforeAll(async () => {
  project = await makeProject();
  project.writeConfigFile({ port: project.config.port, databases: ['app', 'app_test'], extensions, settings });
  const cold = await runCli(['setup'], { cwd: project.dir });
  expect(cold.exitCode, cold.stderr + cold.stdout).toBe(0);
}, 180_000);
afterAll(async () => {
  await project?.remove();
});

const logFile = () => path.join(project.config.stateDir, 'log', 'postgresql.log');

/** Runs the CLI and returns what the server logged meanwhile, once every session of the run has ended. */
async function serverLogOf(args: string[]): Promise<{ exitCode: number | undefined; lines: string[] }> {
  const before = fs.statSync(logFile()).size;
  const result = await runCli(args, { cwd: project.dir });
  expect(result.exitCode, result.stderr + result.stdout).toBe(0);
  // The CLI does not wait for the backends to exit: wait here until each authorized session has its disconnection.
  let lines: string[] = [];
  for (let i = 0; i < 100; i++) {
    lines = fs.readFileSync(logFile(), 'utf8').slice(before).split('\n');
    // A connect to a database that does not exist is authorized first, then refused: it has no disconnection line.
    const opened = lines.filter((l) => /connection authorized/.test(l)).length - lines.filter((l) => /FATAL: +database ".*" does not exist/.test(l)).length;
    if (opened > 0 && lines.filter((l) => /disconnection: session time/.test(l)).length >= opened) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { exitCode: result.exitCode, lines };
}

const sessionsTo = (lines: string[]) =>
  lines.flatMap((l) => /connection authorized: user=\S+ database=(\S+)/.exec(l)?.[1] ?? []).sort();

describe('a warm setup', () => {
  it('opens one session per configured database, none to the maintenance database, and ends each with a goodbye', async () => {
    const { lines } = await serverLogOf(['setup']);
    expect(sessionsTo(lines)).toEqual(['app', 'app_test']);
    expect(lines.filter((l) => /disconnection: session time/.test(l))).toHaveLength(2);
    // A session closed without the protocol's Terminate shows as an unexpected EOF.
    expect(lines.filter((l) => /unexpected EOF on client connection|could not receive data from client/.test(l))).toEqual([]);
  });

  it('the control: a session cut without a goodbye is what the log check above would catch', async () => {
    const script = `
      import pg from 'pg';
      const c = new pg.Client({ host: ${JSON.stringify(path.join(project.config.stateDir, 'run'))}, port: ${project.config.port}, user: 'postgres', database: 'app' });
      await c.connect();
      c.connection.stream.destroy();`;
    const before = fs.statSync(logFile()).size;
    const { execa } = await import('execa');
    await execa(process.execPath, ['--input-type=module', '-e', script], { cwd: path.resolve(import.meta.dirname, '../..'), reject: false });
    let text = '';
    for (let i = 0; i < 100 && !/unexpected EOF on client connection/.test(text); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      text = fs.readFileSync(logFile(), 'utf8').slice(before);
    }
    expect(text).toMatch(/unexpected EOF on client connection/);
  });

  it('still creates a database added to the config (its early connect fails; the listing asks the maintenance database)', async () => {
    project.writeConfigFile({ port: project.config.port, databases: ['added', 'app', 'app_test'], extensions, settings });
    const { lines } = await serverLogOf(['setup']);
    expect(sessionsTo(lines)).toContain('postgres');
    expect(lines.some((l) => /database "added" does not exist/.test(l))).toBe(true);
    const again = await serverLogOf(['setup']);
    expect(sessionsTo(again.lines)).toEqual(['added', 'app', 'app_test']);
  });
});
