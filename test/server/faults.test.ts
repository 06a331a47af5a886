/**
 * kill -9 of a cold `setup` (the whole process group, as Ctrl-\ or an OOM kill would) at each stage: the
 * next setup ends healthy, with the one server listening only on the configured port and socket, no
 * half-made cluster, and no copy of the password beyond the password and pgpass files.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loopbackHosts } from '../../scripts/server/port.ts';
import { makeProject, managedTarget, query, runCli, spawnCli, type TestProject } from '../support/project.ts';

/** Files under `dir` (recursively, not following links) whose content contains `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const found: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) found.push(...filesContaining(file, needle));
    else if (entry.isFile() && fs.readFileSync(file).includes(needle)) found.push(file);
  }
  return found;
}

/** Postgres processes whose working directory is under `dir`, with their parent pid. */
function postgresUnder(dir: string): Array<{ pid: number; ppid: number }> {
  const result: Array<{ pid: number; ppid: number }> = [];
  for (const name of fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n))) {
    try {
      if (fs.readFileSync(`/proc/${name}/comm`, 'utf8').trim() !== 'postgres') continue;
      const cwd = fs.readlinkSync(`/proc/${name}/cwd`).replace(/ \(deleted\)$/, '');
      if (!cwd.startsWith(dir)) continue;
      const ppid = Number(/^PPid:\s+(\d+)/m.exec(fs.readFileSync(`/proc/${name}/status`, 'utf8'))?.[1]);
      result.push({ pid: Number(name), ppid });
    } catch {
      // Gone meanwhile, or not ours to read.
    }
  }
  return result;
}

/** The moment to kill a cold setup at: a line it prints, or a state on disk. */
const STAGES: Array<{ stage: string; at: (project: TestProject) => RegExp | (() => boolean) }> = [
  {
    stage: 'initdb',
    // initdb is running: its private folder beside the data directory has a PG_VERSION.
    at: (p) => () => fs.existsSync(p.config.stateDir) && fs.readdirSync(p.config.stateDir).some((n) => n.startsWith('.data.initdb-') && fs.existsSync(path.join(p.config.stateDir, n, 'data', 'PG_VERSION'))),
  },
  { stage: 'settings', at: () => /Apply server settings/ },
  { stage: 'start', at: () => /Start the cluster\n/ },
  { stage: 'databases', at: () => /CREATE DATABASE/ },
  { stage: 'extensions', at: () => /Enable extensions\n/ },
  // The migration waits while a run holds it (HOLD), so the kill lands while the file is in flight.
  { stage: 'migrations', at: () => /app: applying 20250101000000_things\.sql\n/ },
];

/**
 * A migration that sleeps when the run's sessions carry `pgstrap_test.hold_seconds` (HOLD does, through the
 * PGOPTIONS that node-postgres reads), and whose backend gives up as soon as the killed client is gone.
 */
const HELD_MIGRATION =
  'CREATE TABLE things (id uuid PRIMARY KEY DEFAULT uuidv7());\n' +
  "SELECT pg_sleep(coalesce(nullif(current_setting('pgstrap_test.hold_seconds', true), ''), '0')::float8);\n";
const HOLD = { PGOPTIONS: '-c pgstrap_test.hold_seconds=60 -c client_connection_check_interval=100' };

describe('kill -9 of a cold setup at each stage, then setup again', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.remove();
    project = undefined;
  });

  for (const { stage, at } of STAGES) {
    it(`recovers from a kill during ${stage}`, async () => {
      project = await makeProject({ databases: ['app'], extensions: ['pgcrypto'] });
      const p = project;
      fs.mkdirSync(path.join(p.dir, 'migrations'));
      fs.writeFileSync(path.join(p.dir, 'migrations', '20250101000000_things.sql'), HELD_MIGRATION);
      p.writeConfigFile({ databases: ['app'], extensions: ['pgcrypto'], port: p.config.port, engine: 'embedded' });

      const run = spawnCli(['setup'], { cwd: p.dir, env: HOLD });
      await run.waitFor(at(p), 90_000);
      run.killGroup();
      const killed = await run.exited;
      expect(killed.signal, killed.output).toBe('SIGKILL');

      const again = await runCli(['setup'], { cwd: p.dir });
      expect(again.exitCode, `${again.stdout}\n${again.stderr}`).toBe(0);
      const target = await managedTarget(p);
      const status = target.cluster.status();
      expect(status.running).toBe(true);
      const [listen] = await query<{ port: string; addresses: string; sockets: string }>(
        target,
        'app',
        "SELECT current_setting('port') AS port, current_setting('listen_addresses') AS addresses, current_setting('unix_socket_directories') AS sockets",
      );
      expect(listen).toEqual({ port: String(p.config.port), addresses: (await loopbackHosts()).join(','), sockets: target.layout.socketDir });
      // One postmaster for this project, the one postmaster.pid names; the rest are its children.
      const processes = postgresUnder(p.dir);
      const postmasters = processes.filter((x) => !processes.some((y) => y.pid === x.ppid));
      expect(postmasters.map((x) => x.pid)).toEqual([status.pid]);
      // Nothing of this project on PostgreSQL's default socket (an unconfigured server would be there, trusting everyone).
      const defaultLock = '/tmp/.s.PGSQL.5432.lock';
      expect(fs.existsSync(defaultLock) ? fs.readFileSync(defaultLock, 'utf8') : '').not.toContain(p.dir);
      expect(fs.readdirSync(p.config.stateDir).filter((n) => n.includes('.initdb-'))).toEqual([]);
      const password = fs.readFileSync(target.layout.passwordFile, 'utf8').trim();
      expect(filesContaining(p.config.stateDir, password).map((f) => path.basename(f)).sort()).toEqual(['password', 'pgpass']);
      expect((await query(target, 'app', "SELECT to_regclass('things') IS NOT NULL AS ok"))[0]).toEqual({ ok: true });

      const third = await runCli(['setup'], { cwd: p.dir });
      expect(third.exitCode).toBe(0);
      expect(third.stdout).toContain('Nothing to do: everything is up to date');
    });
  }
});

/** kill -9 of `db:reset` between its drop and the database built again, and while it migrates the new one. */
describe('kill -9 of db:reset, then setup and db:reset again', () => {
  let project: TestProject | undefined;
  afterEach(async () => {
    await project?.remove();
    project = undefined;
  });

  for (const { stage, at } of [
    { stage: 'the drop', at: /DROP DATABASE IF EXISTS "app" WITH \(FORCE\)/ },
    { stage: 'the migrations of the new database', at: /app: applying 20250101000000_things\.sql\n/ },
  ]) {
    it(`recovers from a kill during ${stage}: setup builds what is missing, a reset starts from empty`, async () => {
      project = await makeProject({ databases: ['app'] });
      const p = project;
      fs.mkdirSync(path.join(p.dir, 'migrations'));
      fs.writeFileSync(path.join(p.dir, 'migrations', '20250101000000_things.sql'), HELD_MIGRATION);
      p.writeConfigFile({ databases: ['app'], port: p.config.port, engine: 'embedded' });
      const first = await runCli(['setup'], { cwd: p.dir });
      expect(first.exitCode, String(first.stderr)).toBe(0);
      const target = await managedTarget(p);
      await query(target, 'app', 'INSERT INTO things DEFAULT VALUES');

      const run = spawnCli(['db:reset'], { cwd: p.dir, env: HOLD });
      await run.waitFor(at, 90_000);
      run.killGroup();
      const killed = await run.exited;
      expect(killed.signal, killed.output).toBe('SIGKILL');

      // Whatever the kill left (no database, or one without its migrations), setup finishes it.
      const healed = await runCli(['setup'], { cwd: p.dir });
      expect(healed.exitCode, `${healed.stdout}\n${healed.stderr}`).toBe(0);
      expect((await query(target, 'app', "SELECT to_regclass('things') IS NOT NULL AS ok"))[0]).toEqual({ ok: true });
      const reset = await runCli(['db:reset'], { cwd: p.dir });
      expect(reset.exitCode, `${reset.stdout}\n${reset.stderr}`).toBe(0);
      expect((await query<{ n: string }>(target, 'app', 'SELECT count(*)::text AS n FROM things'))[0]).toEqual({ n: '0' });
      expect(fs.readdirSync(p.config.stateDir).filter((n) => n.startsWith('lock'))).toEqual([]);
    });
  }
});
