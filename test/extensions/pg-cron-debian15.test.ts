/**
 * pg_cron's jobs run for real on Debian's postgresql-15 with postgresql-15-cron: setup makes pg_cron run
 * each job in a background worker (its default, a TCP connection to localhost, is refused a password), so
 * jobs keep running after a restart and with runtime state relocated out of the project (as root); doctor
 * reads cron.job_run_details and reports a job whose last run failed, with the server's message.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { MANAGED_CONF } from '../../scripts/server/conf.ts';
import { isRoot } from '../../scripts/server/server-user.ts';
import type { ManagedTarget } from '../../scripts/server/target.ts';
import { debianPostgres, makeProject, managedTarget, query, runCli, testEnv, type TestProject } from '../support/project.ts';

const debian = await debianPostgres(15);
const hasCron = !('skip' in debian) && fs.existsSync(path.join(debian.binDir, '..', 'lib', 'pg_cron.so'));
const skip = 'skip' in debian ? debian.skip : hasCron ? undefined : 'postgresql-15-cron is not installed (.ci/run installs it)';

/** Waits until every named job has a finished run (pg_cron 1.4 schedules by the minute). */
async function waitForRuns(target: ManagedTarget, names: string[], timeoutMs = 100_000): Promise<Array<{ jobname: string; status: string; return_message: string }>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const rows = await query<{ jobname: string; status: string; return_message: string }>(
      target,
      'app',
      `SELECT DISTINCT ON (j.jobname) j.jobname, d.status, d.return_message
         FROM cron.job_run_details d JOIN cron.job j USING (jobid)
        WHERE d.status IN ('succeeded', 'failed') ORDER BY j.jobname, d.runid DESC`,
    );
    if (names.every((n) => rows.some((r) => r.jobname === n))) return rows;
    if (Date.now() > deadline) throw new Error(`no finished run of ${names.join(', ')} within ${timeoutMs} ms: ${JSON.stringify(rows)}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe.skipIf(skip !== undefined)(`pg_cron jobs on Debian PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const env = { PG_BIN: 'skip' in debian ? '' : debian.binDir };
  let privateHome: string;
  let project: TestProject;
  const raw: PgstrapConfig = { engine: 'system', postgresMajor: 15, databases: ['app'], extensions: ['pg_cron'] };

  beforeAll(async () => {
    // As root, a project only root may enter: runtime state moves to /var/tmp, and the socket with it.
    privateHome = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-home-'));
    fs.chmodSync(privateHome, isRoot() ? 0o700 : 0o755);
    project = await makeProject(raw, { parent: privateHome });
    project.writeConfigFile({ ...raw, port: project.config.port });
  });
  afterAll(async () => {
    await project?.remove();
    fs.rmSync(privateHome, { recursive: true, force: true });
  });

  it('runs scheduled jobs after setup and a restart, and doctor reports the one that fails with its error', { timeout: 180_000 }, async () => {
    const setup = await runCli(['setup'], { cwd: project.dir, env });
    expect(setup.exitCode, `${setup.stdout}\n${setup.stderr}`).toBe(0);
    const target = await managedTarget(project, { env: testEnv(undefined, env) });
    expect(target.layout.relocated).toBe(isRoot());
    expect(fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8')).toContain("cron.use_background_workers = 'on'\n");
    expect(String(setup.stdout)).toContain('cron.use_background_workers: needed by pg_cron');

    await query(target, 'app', 'CREATE TABLE ticks (at timestamptz NOT NULL DEFAULT now())');
    await query(target, 'app', "SELECT cron.schedule('tick', '* * * * *', 'INSERT INTO ticks DEFAULT VALUES')");
    await query(target, 'app', "SELECT cron.schedule('broken', '* * * * *', 'SELECT 1/0')");
    // The jobs were scheduled with nodename localhost; the restart proves nothing depends on the session that made them.
    await target.cluster.stop();
    const start = await runCli(['start'], { cwd: project.dir, env });
    expect(start.exitCode, String(start.stderr)).toBe(0);

    const runs = await waitForRuns(target, ['tick', 'broken']);
    expect(runs.find((r) => r.jobname === 'tick')).toMatchObject({ status: 'succeeded' });
    expect(runs.find((r) => r.jobname === 'broken')).toMatchObject({ status: 'failed', return_message: 'ERROR: division by zero' });
    expect((await query<{ n: number }>(target, 'app', 'SELECT count(*)::int AS n FROM ticks'))[0]!.n).toBeGreaterThan(0);

    const doctor = await runCli(['doctor', '--json'], { cwd: project.dir, env });
    const report = JSON.parse(String(doctor.stdout)) as { checks: Array<{ id: string; status: string; message: string; details: string[]; fix: string | null }> };
    const cron = report.checks.find((c) => c.id === 'db.app.cron');
    expect(cron).toMatchObject({ status: 'warn', message: "pg_cron: the last run of job 2 failed with the job's own error" });
    expect(cron!.details).toEqual([expect.stringMatching(/^job 2 \(broken\), '\* \* \* \* \*', as postgres: started \S+, failed: ERROR: division by zero$/)]);
    expect(cron!.fix).toBe("Fix the command: SELECT cron.alter_job(2, command := '...'), or stop it: SELECT cron.unschedule(2)");
    expect(report.checks.find((c) => c.id === 'cluster.settings')).toMatchObject({ status: 'ok' });

    await query(target, 'app', "SELECT cron.unschedule('broken')");
    const healthy = JSON.parse(String((await runCli(['doctor', '--json'], { cwd: project.dir, env })).stdout)) as typeof report;
    expect(healthy.checks.find((c) => c.id === 'db.app.cron')).toMatchObject({ status: 'ok', message: 'pg_cron: 1 active job, each last run succeeded' });
  });

  it('keeps the preload while pg_cron stays installed after the config drops it, and says how to remove it', { timeout: 180_000 }, async () => {
    const target = await managedTarget(project, { env: testEnv(undefined, env) });
    const conf = () => fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8');
    const startTime = async () => String((await query<{ t: Date }>(target, 'postgres', 'SELECT pg_postmaster_start_time() AS t'))[0]!.t.toISOString());
    const before = await startTime();
    const file = conf();
    project.writeConfigFile({ ...raw, port: project.config.port, extensions: [] });
    const setup = await runCli(['setup', '--json'], { cwd: project.dir, env });
    expect(setup.exitCode, String(setup.stderr)).toBe(0);
    const steps = (JSON.parse(String(setup.stdout)) as { steps: Array<{ id: string; status: string; changes: string[]; notes: string[] }> }).steps;
    const byId = Object.fromEntries(steps.map((r) => [r.id, r]));
    expect(byId.settings).toMatchObject({ changes: [] });
    expect(byId.settings!.notes).toEqual(['pg_cron is no longer declared, but app still has it installed: its preload stays (DROP EXTENSION pg_cron there first to let it go)']);
    expect(byId.extensions).toMatchObject({ status: 'warning' });
    expect(byId.extensions!.notes).toEqual([
      'app: pg_cron 1.4-1 is installed, but the config does not declare it there. To remove it: DROP EXTENSION "pg_cron"; in app; ' +
        'inside `nix develop` the next shell will not build pg_cron (the flake builds only declared extensions): declare it again to keep it, or drop it',
    ]);
    expect(conf()).toBe(file);
    expect(await startTime()).toBe(before);
    // pg_cron still works: its library is loaded and its job runs on.
    expect(await query(target, 'app', "SELECT cron.schedule('again', '0 0 * * *', 'SELECT 1') > 0 AS ok")).toEqual([{ ok: true }]);

    const doctor = JSON.parse(String((await runCli(['doctor', '--json'], { cwd: project.dir, env })).stdout)) as { checks: Array<{ id: string; status: string; message: string; fix: string | null; details: string[] }> };
    expect(doctor.checks.find((c) => c.id === 'db.app.extension.pg_cron')).toMatchObject({
      status: 'warn',
      message: 'pg_cron 1.4-1 is installed, but the config does not declare it',
      fix: 'Declare it in the config to keep it, or drop it (psql -d app): DROP EXTENSION "pg_cron";',
    });
    expect(doctor.checks.find((c) => c.id === 'cluster.settings')).toMatchObject({ status: 'ok' });
    expect(doctor.checks.find((c) => c.id === 'cluster.preload')).toMatchObject({ status: 'ok' });

    // Once dropped, the next setup lets the preload go, with one restart.
    await query(target, 'app', 'DROP EXTENSION pg_cron');
    const after = await runCli(['setup', '--json'], { cwd: project.dir, env });
    const next = Object.fromEntries((JSON.parse(String(after.stdout)) as { steps: Array<{ id: string; changes: string[] }> }).steps.map((r) => [r.id, r]));
    expect(next.settings!.changes).toEqual([
      "cron.use_background_workers: 'on' -> (unset) (needs a restart)",
      "cron.database_name: 'app' -> (unset) (needs a restart)",
      "shared_preload_libraries: 'pg_cron' -> (unset) (needs a restart)",
    ]);
    expect(next.start!.changes).toEqual([expect.stringMatching(/^restarted the server/)]);
  });
});
