/**
 * Settings the server refuses never reach pgstrap.conf: names and values are checked by the server's own
 * parser before initdb and before each write, and every value the file holds reads back exactly.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExitCode } from '../../scripts/shared/errors.ts';
import { MANAGED_CONF } from '../../scripts/server/conf.ts';
import type { ManagedTarget } from '../../scripts/server/target.ts';
import { makeProject, managedTarget, query, runCli, type TestProject } from '../support/project.ts';

let project: TestProject;
let target: ManagedTarget;
const base = () => ({ port: project.config.port, engine: 'embedded', databases: ['app'] });
const cli = (...args: string[]) => runCli(args, { cwd: project.dir });

beforeAll(async () => {
  project = await makeProject({ engine: 'embedded' });
  target = await managedTarget(project);
});
afterAll(async () => project?.remove());

describe('server settings', () => {
  it('refuses an unknown name before initdb, naming the key', async () => {
    project.writeConfigFile({ ...base(), settings: { wrok_mem: '4MB' } });
    const result = await cli('setup');
    expect(result.exitCode).toBe(ExitCode.usage);
    const stderr = String(result.stderr);
    expect(stderr).toContain('[config.unknown-setting]');
    expect(stderr).toContain(`settings.wrok_mem in ${path.join(project.dir, 'extensions.config.mjs')} = '4MB': unrecognized configuration parameter "wrok_mem"`);
    expect(fs.existsSync(target.layout.dataDir)).toBe(false);
  });

  it('refuses shared_buffers: "lots" and an enum value before initdb, naming key, value and what the server takes', async () => {
    project.writeConfigFile({ ...base(), settings: { shared_buffers: 'lots', wal_level: 'most' } });
    const result = await cli('setup', '--json');
    expect(result.exitCode, `${String(result.stdout)}\n${String(result.stderr)}`).toBe(ExitCode.usage);
    const { error } = JSON.parse(String(result.stdout)) as { error: { code: string; message: string; details: string[] } };
    expect(error.code).toBe('config.bad-setting');
    expect(error.message).toMatch(/^PostgreSQL 17\.\d+ refuses "shared_buffers", "wal_level"; nothing was written$/);
    expect(error.details[0]).toMatch(/^settings\.shared_buffers in .* = 'lots': invalid value for parameter "shared_buffers": "lots"; it takes an integer from 16 to \d+/);
    expect(error.details[1]).toMatch(/^settings\.wal_level in .* = 'most': invalid value for parameter "wal_level": "most" \(Available values: minimal, replica, logical\)$/);
    expect(fs.existsSync(target.layout.dataDir)).toBe(false);
  });

  it('accepts application_name, and writes values ending in a backslash or holding quotes so they read back exactly', async () => {
    const settings = { application_name: 'pgstrap tests', 'pgstrap_test.dir': 'C:\\dir\\', 'pgstrap_test.quotes': `it's \\'x\\' "q"` };
    project.writeConfigFile({ ...base(), settings });
    const setup = await cli('setup');
    expect(setup.exitCode, String(setup.stderr)).toBe(0);
    const rows = await query<{ name: string; value: string }>(
      target,
      'app',
      `SELECT n AS name, current_setting(n) AS value FROM unnest(ARRAY['application_name', 'pgstrap_test.dir', 'pgstrap_test.quotes']) AS n`,
    );
    expect(Object.fromEntries(rows.map((r) => [r.name, r.value]))).toEqual(settings);
    expect(target.cluster.readManagedConf()).toMatchObject(settings);
    expect(String((await cli('setup')).stdout).trim().split('\n').at(-1)).toMatch(/^Nothing to do/);
  });

  it('refuses work_mem: "lots" and a missing preload library on a running cluster before writing, and the cluster starts again', async () => {
    const conf = fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8');
    project.writeConfigFile({ ...base(), settings: { work_mem: 'lots' } });
    const result = await cli('setup');
    expect(result.exitCode).toBe(ExitCode.usage);
    expect(String(result.stderr)).toContain(`settings.work_mem in ${path.join(project.dir, 'extensions.config.mjs')} = 'lots': invalid value for parameter "work_mem": "lots"; it takes an integer`);
    expect(String(result.stdout)).not.toContain('reload');
    expect(fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8')).toBe(conf);
    // A preload the installation lacks passes the server's parse but would stop its start.
    project.writeConfigFile({ ...base(), settings: { shared_preload_libraries: 'pg_stat_statements, "$libdir/no_such_lib"' } });
    const preload = await cli('setup');
    expect(preload.exitCode).toBe(ExitCode.usage);
    expect(String(preload.stderr)).toContain('[config.bad-setting] shared_preload_libraries names "no_such_lib", which PostgreSQL 17.');
    expect(fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8')).toBe(conf);
    // The file on disk is the one the server accepted: the cluster restarts on it (doctor's advice after a bad reload).
    await target.cluster.stop();
    await target.cluster.start(project.config.port);
    expect(await query(target, 'app', 'SELECT 1 AS one')).toEqual([{ one: 1 }]);
    project.writeConfigFile({ ...base(), settings: { work_mem: '8MB', shared_preload_libraries: 'pg_stat_statements' } });
    const fixed = await cli('setup');
    expect(fixed.exitCode, String(fixed.stderr)).toBe(0);
    expect(await query(target, 'app', 'SHOW work_mem')).toEqual([{ work_mem: '8MB' }]);
    expect(await query(target, 'app', 'SHOW shared_preload_libraries')).toEqual([{ shared_preload_libraries: 'pg_stat_statements' }]);
  });
});
