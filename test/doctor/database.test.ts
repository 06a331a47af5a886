/**
 * Doctor's database and server-setting checks on one real embedded cluster: a required extension the
 * server lacks, a preload library declared but not loaded, pending and drifted migrations. Each broken
 * check's fix hint is run (or, for a missing extension, its config edit applied) and must make it pass.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../scripts/config/load.ts';
import { installedChecker } from '../../scripts/extensions/installed.ts';
import { readInstalledFiles } from '../../scripts/extensions/files.ts';
import { desiredSettings } from '../../scripts/extensions/settings.ts';
import { loopbackHosts } from '../../scripts/server/port.ts';
import { managedTarget, query, runCli } from '../support/project.ts';
import { checkOf, doctor, runFix, setUpProject, type DoctorProject } from './support.ts';

let p: DoctorProject;

beforeAll(async () => {
  p = await setUpProject({ databases: ['app'], extensions: ['pgcrypto'] });
});

afterAll(async () => {
  await p?.project.remove();
});

describe('doctor on databases', () => {
  it('fails a required extension the server does not have, and says how to get it or make it optional', async () => {
    p.configure({ databases: ['app'], extensions: ['pgcrypto', 'vector'] });
    const result = await doctor(p);
    const vector = checkOf(result, 'db.app.extension.vector');
    expect(vector.status).toBe('fail');
    expect(vector.message).toMatch(/vector is not available on embedded PostgreSQL 17/);
    expect(vector.fix).toContain('nix develop');
    expect(vector.fix).toContain("{ name: 'vector', required: false }");
    expect(vector.repair).toBeUndefined();
    expect(result.summary.exit).toBe(1);
    // The hint's edit (nix develop cannot run here): mark it optional. Then it is a warning, and doctor passes.
    p.configure({ databases: ['app'], extensions: ['pgcrypto', { name: 'vector', required: false }] });
    const after = await doctor(p);
    expect(checkOf(after, 'db.app.extension.vector').status).toBe('warn');
    expect(after.summary).toMatchObject({ fail: 0, exit: 0 });
    expect((await doctor(p, true)).summary.exit).toBe(1);
  });

  it('fails a preload library written to pgstrap.conf but not loaded; the restart hint loads it', async () => {
    p.configure({ databases: ['app'], extensions: ['pgcrypto', 'pg_stat_statements'] });
    const target = await managedTarget(p.project);
    // What setup would write, without the restart it would do.
    const config = await loadConfig({ cwd: p.project.dir, explicitPath: p.configFile });
    const desired = desiredSettings(config, installedChecker(await readInstalledFiles(target.binaries)), { socketDir: target.layout.socketDir, listenHosts: await loopbackHosts(), outputPluginDefault: undefined });
    expect(desired.shared_preload_libraries).toBe('pg_stat_statements');
    target.cluster.writeManagedConf(desired);
    const result = await doctor(p);
    const preload = checkOf(result, 'cluster.preload');
    expect(preload.status).toBe('fail');
    expect(preload.message).toBe('pg_stat_statements is in pgstrap.conf but not loaded: the server has not restarted since');
    expect(preload.fix).toBe('npm run db:stop && npm run db:start');
    await runFix(p, preload);
    const after = await doctor(p);
    expect(checkOf(after, 'cluster.preload')).toMatchObject({ status: 'ok', message: 'preloaded: pg_stat_statements' });
    // Now loadable, the extension itself is one `npm run setup` away.
    const ext = checkOf(after, 'db.app.extension.pg_stat_statements');
    expect(ext).toMatchObject({ status: 'fail', fix: 'npm run setup' });
    await runFix(p, ext);
    expect(checkOf(await doctor(p), 'db.app.extension.pg_stat_statements').status).toBe('ok');
  });

  it('warns about pending migrations (npm run migrate applies them) and fails drifted ones (the accept hint records them)', async () => {
    p.configure({ databases: ['app'], extensions: ['pgcrypto'] });
    const dir = path.join(p.project.dir, 'migrations');
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, '20250101000000_first.sql'), 'CREATE TABLE first (id int);\n');
    const migrate = await runCli(['migrate', '--config', p.configFile], { cwd: p.project.dir });
    expect(migrate.exitCode, String(migrate.stderr)).toBe(0);
    expect(checkOf(await doctor(p), 'db.app.migrations')).toMatchObject({ status: 'ok', message: '1 applied, none pending' });

    fs.writeFileSync(path.join(dir, '20250102000000_second.sql'), 'CREATE TABLE second (id int);\n');
    const pending = checkOf(await doctor(p), 'db.app.migrations');
    expect(pending).toMatchObject({ status: 'warn', message: '1 pending: 20250102000000_second', fix: 'npm run migrate', repair: 'migrations' });
    await runFix(p, pending);
    expect(checkOf(await doctor(p), 'db.app.migrations')).toMatchObject({ status: 'ok', message: '2 applied, none pending' });
    expect(await query(await managedTarget(p.project), 'app', 'SELECT count(*)::int AS n FROM second')).toEqual([{ n: 0 }]);

    fs.writeFileSync(path.join(dir, '20250101000000_first.sql'), 'CREATE TABLE first (id bigint);\n');
    const result = await doctor(p);
    const drifted = checkOf(result, 'db.app.migrations');
    expect(drifted.status).toBe('fail');
    expect(drifted.details.join('\n')).toContain('20250101000000_first.sql was edited after it was applied');
    expect(drifted.fix).toContain('`npm run migrate -- --accept 20250101000000`');
    expect(drifted.repair).toBeUndefined();
    await runFix(p, drifted);
    expect(checkOf(await doctor(p), 'db.app.migrations').status).toBe('ok');
  });

  it('warns while the settings of the config are not in pgstrap.conf or not in effect; npm run setup applies them', async () => {
    p.configure({ databases: ['app'], extensions: ['pgcrypto'], settings: { work_mem: '8MB', log_min_duration_statement: '250ms' } });
    const result = await doctor(p);
    const stale = checkOf(result, 'cluster.settings');
    // The earlier test's pg_stat_statements is gone from the config, but still installed in app: its preload stays.
    expect(stale).toMatchObject({ status: 'warn', message: 'pgstrap.conf differs from the config: work_mem, log_min_duration_statement', fix: 'npm run setup' });
    expect(checkOf(result, 'db.app.extension.pg_stat_statements')).toMatchObject({
      status: 'warn',
      message: expect.stringMatching(/^pg_stat_statements [\d.]+ is installed, but the config does not declare it$/),
      fix: 'Declare it in the config to keep it, or drop it (psql -d app): DROP EXTENSION "pg_stat_statements";',
      details: [],
    });
    await runFix(p, stale);
    expect(checkOf(await doctor(p), 'cluster.settings')).toMatchObject({ status: 'ok', message: 'in effect: work_mem, log_min_duration_statement' });
  });
});
