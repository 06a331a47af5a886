/**
 * The preload and settings path on Debian's postgresql-15 with postgresql-15-cron and -wal2json:
 * adding pg_cron, wal2json and pg_stat_statements to a running cluster writes the managed settings
 * and restarts exactly once; a required extension the server lacks stops setup before any change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/core/config/types.ts';
import { resolveConfig } from '../../scripts/core/config/validate.ts';
import { isPgstrapError, type PgstrapError } from '../../scripts/core/errors.ts';
import { MANAGED_CONF } from '../../scripts/core/server-settings.ts';
import type { ManagedTarget } from '../../scripts/engines/target.ts';
import { databasesStep } from '../../scripts/steps/databases.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/steps/cluster.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/steps/extensions.ts';
import { uuidv7Step } from '../../scripts/steps/uuidv7.ts';
import { debianPostgres, makeProject, managedTarget, query, runCli, runStepsQuietly, testEnv, type TestProject } from '../support/project.ts';

const STEPS = [extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step];
const debian = await debianPostgres(15);
const hasPlugins = !('skip' in debian) && fs.existsSync(path.join(debian.binDir, '..', 'lib', 'pg_cron.so')) && fs.existsSync(path.join(debian.binDir, '..', 'lib', 'wal2json.so'));
const skip = 'skip' in debian ? debian.skip : hasPlugins ? undefined : 'postgresql-15-cron or postgresql-15-wal2json is not installed (.ci/run installs them)';

describe.skipIf(skip !== undefined)(`Debian PostgreSQL 15 with pg_cron and wal2json${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const env = { PG_BIN: 'skip' in debian ? '' : debian.binDir };
  let project: TestProject;
  const base: PgstrapConfig = { engine: 'system', postgresMajor: 15, databases: ['app', 'jobs'], extensions: ['pgcrypto'] };

  beforeAll(async () => {
    project = await makeProject(base);
  });
  afterAll(async () => project?.remove());

  async function run(raw: PgstrapConfig) {
    const config = resolveConfig({ ...raw, port: project.config.port }, { file: path.join(project.dir, 'extensions.config.mjs'), projectDir: project.dir });
    const target: ManagedTarget = await managedTarget({ ...project, config }, { env: testEnv(undefined, env) });
    return { target, run: () => runStepsQuietly(STEPS, config, target) };
  }

  async function startTime(target: ManagedTarget): Promise<string> {
    return String((await query<{ t: Date }>(target, 'postgres', 'SELECT pg_postmaster_start_time() AS t'))[0]!.t.toISOString());
  }

  it('starts cold without a restart', async () => {
    const { run: go } = await run(base);
    const reports = await go();
    expect(reports.find((r) => r.id === 'start')!.changes).toEqual([expect.stringMatching(/^started PostgreSQL 15/)]);
  });

  it('adds preloads and settings with exactly one restart, then enables the extensions', async () => {
    const raw: PgstrapConfig = {
      ...base,
      extensions: ['pgcrypto', { name: 'pg_cron', databases: ['jobs'] }, 'wal2json', 'pg_stat_statements', { name: 'vector', required: false }],
    };
    const { target, run: go } = await run(raw);
    const before = await startTime(target);
    const reports = await go();
    const byId = Object.fromEntries(reports.map((r) => [r.id, r]));
    expect(byId.settings!.changes).toEqual([
      "cron.database_name: (unset) -> 'jobs' (needs a restart)",
      "wal_level: (unset) -> 'logical' (needs a restart)",
      "shared_preload_libraries: (unset) -> 'pg_cron,pg_stat_statements' (needs a restart)",
    ]);
    expect(byId.settings!.notes).toEqual([
      'cron.database_name: needed by pg_cron',
      'wal_level: needed by wal2json',
      'shared_preload_libraries: needed by pg_cron, pg_stat_statements',
    ]);
    expect(byId.start!.changes).toEqual([expect.stringMatching(/^restarted the server \(cron\.database_name, wal_level, shared_preload_libraries take effect only at start\)/)]);
    expect(await startTime(target)).not.toBe(before);
    expect(byId.extensions!.changes).toEqual([
      'app: created extension pg_stat_statements',
      'jobs: created extension pg_cron',
      'jobs: created extension pg_stat_statements',
    ]);
    // wal2json is no CREATE EXTENSION: a logical slot proved it, so it is not among the warnings.
    expect(byId.extensions!.notes).toEqual([expect.stringMatching(/^optional extension vector skipped in app, jobs: .*postgresql_15\.pkgs\.pgvector/)]);
    expect(await query(target, 'jobs', "SELECT current_setting('wal_level') AS wal, current_setting('cron.database_name') AS cron")).toEqual([{ wal: 'logical', cron: 'jobs' }]);
    expect(await query(target, 'jobs', "SELECT count(*)::int AS n FROM cron.job")).toEqual([{ n: 0 }]);
    expect(await query(target, 'app', 'SELECT count(*)::int AS slots FROM pg_replication_slots')).toEqual([{ slots: 0 }]);

    const after = await startTime(target);
    const again = await go();
    expect(again.flatMap((r) => r.changes)).toEqual([]);
    expect(await startTime(target)).toBe(after);
  });

  it('stops before any change when a required extension is missing', async () => {
    const raw: PgstrapConfig = { ...base, extensions: ['pgcrypto', 'vector', { name: 'timescaledb', databases: ['app'] }] };
    const { target, run: go } = await run(raw);
    const conf = fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8');
    const before = await startTime(target);
    const error = await go().catch((e: unknown) => e);
    expect(isPgstrapError(error)).toBe(true);
    const e = error as PgstrapError;
    expect(e).toMatchObject({ code: 'extension.missing', exit: 3 });
    expect(e.message).toBe('required extensions vector, timescaledb not available on system PostgreSQL 15.' + e.message.split('system PostgreSQL 15.')[1]);
    expect(e.details.join('\n')).toContain('postgresql_15.pkgs.timescaledb (unfree: the flake allows it by name; timescaledb-apache is the free build)');
    expect(fs.readFileSync(path.join(target.layout.dataDir, MANAGED_CONF), 'utf8')).toBe(conf);
    expect(await startTime(target)).toBe(before);
  });

  it('refuses pg_cron for two databases in the config, naming the key and the file', async () => {
    const file = project.writeConfigFile({ ...base, port: project.config.port, extensions: ['pg_cron'] });
    const result = await runCli(['setup'], { cwd: project.dir, env });
    expect(result.exitCode).toBe(2);
    expect(String(result.stderr)).toContain(file);
    expect(String(result.stderr)).toMatch(/extensions\[0\]\.databases: pg_cron works in one database per cluster \(cron\.database_name\), but it is declared for app, jobs/);
  });
});

describe('a required extension the binaries lack, on a project never set up', () => {
  it('stops before initdb', async () => {
    const project = await makeProject({ extensions: ['vector'], engine: 'embedded' });
    try {
      const target = await managedTarget(project);
      const error = await runStepsQuietly(STEPS, project.config, target).catch((e: unknown) => e);
      expect((error as PgstrapError).code).toBe('extension.missing');
      expect((error as PgstrapError).details.join('\n')).toMatch(/the embedded engine has contrib extensions only\. The flake builds it \(postgresql_17\.pkgs\.pgvector\)/);
      expect(fs.existsSync(path.join(target.layout.dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      await project.remove();
    }
  });
});
