/** The cluster lifecycle on the embedded engine (PostgreSQL 17): cold, warm, stop/start, crash, port taken. */
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isPgstrapError, type PgstrapError } from '../../scripts/shared/errors.ts';
import { SETUP_STEPS } from '../../scripts/pipeline/steps.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import pg from 'pg';
import { loopbackHosts } from '../../scripts/server/port.ts';
import { readPassword } from '../../scripts/server/target.ts';
import { killPostmaster, makeProject, managedTarget, query, runStepsQuietly, type TestProject } from '../support/project.ts';

const CLUSTER_STEPS = [initialiseStep, settingsStep, startStep, databasesStep];
const HAS_IPV6_LOOPBACK = (await loopbackHosts()).includes('::1');

let project: TestProject;

beforeAll(async () => {
  project = await makeProject({ databases: ['app', 'app_test'], settings: { work_mem: '8MB' } });
});
afterAll(async () => project?.remove());

async function changesOf(steps = CLUSTER_STEPS) {
  const target = await managedTarget(project);
  const reports = await runStepsQuietly(steps, project.config, target);
  return { target, reports, changed: reports.filter((r) => r.changes.length > 0).map((r) => r.id) };
}

describe('managed cluster on the embedded engine', () => {
  it('sets up from cold: initdb, settings, start, databases', async () => {
    const { target, changed } = await changesOf();
    expect(target.kind).toBe('embedded');
    // initdb writes where to listen; the settings step adds work_mem after checking its name, before the start.
    expect(changed).toEqual(['cluster', 'settings', 'start', 'databases']);
    const rows = await query<{ datname: string }>(target, 'postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'app%' ORDER BY 1");
    expect(rows.map((r) => r.datname)).toEqual(['app', 'app_test']);
    const [settings] = await query<{ work_mem: string; listen: string; major: string }>(
      target,
      'app',
      "SELECT current_setting('work_mem') AS work_mem, current_setting('listen_addresses') AS listen, current_setting('server_version_num') AS major",
    );
    expect(settings).toEqual({ work_mem: '8MB', listen: (await loopbackHosts()).join(','), major: expect.stringMatching(/^17/) });
  });

  it('changes nothing on a second run and says so', async () => {
    const { reports } = await changesOf();
    expect(reports.every((r) => r.changes.length === 0)).toBe(true);
  });

  it('keeps runtime state private: data and socket folders 0700, password 0600', () => {
    const { stateDir } = project.config;
    expect(fs.statSync(path.join(stateDir, 'data')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(stateDir, 'run')).mode & 0o777).toBe(0o700);
    expect(fs.statSync(path.join(stateDir, 'password')).mode & 0o777).toBe(0o600);
  });

  it('asks for the password on TCP and trusts the socket', async () => {
    const target = await managedTarget(project);
    const password = fs.readFileSync(path.join(project.config.stateDir, 'password'), 'utf8').trim();
    const pg = (await import('pg')).default;
    const wrong = new pg.Client({ host: '127.0.0.1', port: project.config.port, user: 'postgres', password: 'wrong', database: 'app' });
    await expect(wrong.connect()).rejects.toThrow(/password authentication failed/);
    const right = new pg.Client({ host: '127.0.0.1', port: project.config.port, user: 'postgres', password, database: 'app' });
    await right.connect();
    expect((await right.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await right.end();
    const [viaSocket] = await query<{ one: number }>(target, 'app', 'SELECT 1 AS one');
    expect(viaSocket).toEqual({ one: 1 });
  });

  it('reloads for a setting that allows it, without a restart', async () => {
    const before = (await managedTarget(project)).cluster.status().pid;
    project.config.settings.work_mem = '16MB';
    const { target, reports } = await changesOf();
    expect(reports.find((r) => r.id === 'settings')?.changes).toEqual(["work_mem: '8MB' -> '16MB' (reload)"]);
    expect(target.cluster.status().pid).toBe(before);
    const [row] = await query<{ v: string }>(target, 'app', "SELECT current_setting('work_mem') AS v");
    expect(row?.v).toBe('16MB');
  });

  it('restarts once for a setting that needs it', async () => {
    const before = (await managedTarget(project)).cluster.status().pid;
    project.config.settings.max_connections = '40';
    const { target, reports } = await changesOf();
    expect(reports.find((r) => r.id === 'start')?.changes[0]).toMatch(/^restarted the server \(max_connections/);
    expect(target.cluster.status().pid).not.toBe(before);
    const [row] = await query<{ v: string }>(target, 'app', "SELECT current_setting('max_connections') AS v");
    expect(row?.v).toBe('40');
  });

  it('refuses a setting the server does not know, before writing anything', async () => {
    const target = await managedTarget(project);
    const conf = fs.readFileSync(path.join(target.layout.dataDir, 'pgstrap.conf'), 'utf8');
    project.config.settings.wrok_mem = '1MB';
    try {
      await expect(changesOf()).rejects.toMatchObject({ code: 'config.unknown-setting', message: expect.stringContaining('"wrok_mem"') });
      expect(fs.readFileSync(path.join(target.layout.dataDir, 'pgstrap.conf'), 'utf8')).toBe(conf);
    } finally {
      delete project.config.settings.wrok_mem;
    }
  });

  it('stops and starts again', async () => {
    const target = await managedTarget(project);
    expect(await target.cluster.stop()).toBe(true);
    expect(target.cluster.status().running).toBe(false);
    expect(await target.cluster.stop()).toBe(false);
    const { changed } = await changesOf([initialiseStep, settingsStep, startStep]);
    expect(changed).toEqual(['start']);
  });

  it('recovers the stale postmaster.pid a kill -9 leaves behind', async () => {
    const target = await managedTarget(project);
    const pid = await killPostmaster(target);
    const status = target.cluster.status();
    expect(status).toMatchObject({ running: false, stalePid: pid });
    const { reports } = await changesOf();
    const start = reports.find((r) => r.id === 'start')!;
    expect(start.changes[0]).toMatch(/^started PostgreSQL 17/);
    expect(start.notes).toContain(`removed a stale postmaster.pid (pid ${pid} was not running)`);
    const [row] = await query<{ one: number }>(target, 'app', 'SELECT 1 AS one');
    expect(row).toEqual({ one: 1 });
  });

  it('names the port, its holder and the config key when the port is taken', async () => {
    const target = await managedTarget(project);
    await target.cluster.stop();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(project.config.port, '127.0.0.1', resolve));
    try {
      const error = (await changesOf().catch((e: unknown) => e)) as PgstrapError;
      expect(isPgstrapError(error)).toBe(true);
      expect(error.code).toBe('cluster.port-in-use');
      expect(error.message).toContain(`port ${project.config.port} on 127.0.0.1 is already in use by pid ${process.pid}`);
      expect(error.remedy).toContain('set port in the config');
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    const { changed } = await changesOf();
    expect(changed).toContain('start');
  });

  it.skipIf(!HAS_IPV6_LOOPBACK)('holds the port on ::1 too, and will not start beside a listener there', async () => {
    const target = await managedTarget(project);
    // The running server answers on [::1] with the password, as a client of `localhost` resolving to ::1 meets it.
    const password = readPassword(target.layout)!;
    const client = new pg.Client({ host: '::1', port: project.config.port, user: project.config.superuser, password, database: 'app' });
    await client.connect();
    try {
      expect((await client.query<{ addr: string }>('SELECT host(inet_server_addr()) AS addr')).rows).toEqual([{ addr: '::1' }]);
    } finally {
      await client.end();
    }
    // Down, another process may take [::1]:port; the start refuses rather than leave ::1 to it.
    await target.cluster.stop();
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(project.config.port, '::1', resolve));
    try {
      const error = (await changesOf().catch((e: unknown) => e)) as PgstrapError;
      expect(error.code).toBe('cluster.port-in-use');
      expect(error.message).toContain(`port ${project.config.port} on ::1 is already in use by pid ${process.pid}`);
      expect(target.cluster.status().running).toBe(false);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
    expect((await changesOf()).changed).toContain('start');
  });

  it('runs the cluster steps in this order within setup', () => {
    const ids = SETUP_STEPS.map((s) => s.id);
    const order = ['cluster', 'settings', 'start', 'databases'].map((id) => ids.indexOf(id));
    expect(order.every((index, i) => index >= 0 && (i === 0 || index > order[i - 1]!))).toBe(true);
  });
});

describe('a cold setup with a mistyped setting', () => {
  it('stops before the first start, naming the setting, and the next run recovers once it is fixed', async () => {
    const cold = await makeProject({ settings: { wrok_mem: '8MB' } });
    try {
      const target = await managedTarget(cold);
      const error = await runStepsQuietly(CLUSTER_STEPS, cold.config, target).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'config.unknown-setting', details: [expect.stringContaining('settings.wrok_mem')] });
      expect(target.cluster.status().running).toBe(false);
      delete cold.config.settings.wrok_mem;
      cold.config.settings.work_mem = '8MB';
      await runStepsQuietly(CLUSTER_STEPS, cold.config, target);
      const [row] = await query<{ v: string }>(target, 'app', "SELECT current_setting('work_mem') AS v");
      expect(row?.v).toBe('8MB');
    } finally {
      await cold.remove();
    }
  });
});
