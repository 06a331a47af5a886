/**
 * The preload and settings path on Debian's postgresql-15 with postgresql-15-cron and -wal2json:
 * adding pg_cron, wal2json and pg_stat_statements to a running cluster writes the managed settings
 * and restarts exactly once; a required extension the server lacks stops setup before any change.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { isPgstrapError, type PgstrapError } from '../../scripts/shared/errors.ts';
import { MANAGED_CONF } from '../../scripts/server/conf.ts';
import { execa } from 'execa';
import { describeConfig } from '../../scripts/server/binaries.ts';
import { selectTarget } from '../../scripts/server/select.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { connectionFor, readPassword, type ManagedTarget } from '../../scripts/server/target.ts';
import { databasesStep } from '../../scripts/databases/step.ts';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import { extensionsCheckStep, extensionsStep } from '../../scripts/extensions/step.ts';
import { uuidv7Step } from '../../scripts/uuidv7/step.ts';
import { debianPostgres, makeProject, REPO_ROOT, managedTarget, query, runCli, runStepsQuietly, testEnv, type TestProject } from '../support/project.ts';

const STEPS = [extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step];
const debian = await debianPostgres(15);
const hasPlugins = !('skip' in debian) && fs.existsSync(path.join(debian.binDir, '..', 'lib', 'pg_cron.so')) && fs.existsSync(path.join(debian.binDir, '..', 'lib', 'wal2json.so'));
const skip = 'skip' in debian ? debian.skip : hasPlugins ? undefined : 'postgresql-15-cron or postgresql-15-wal2json is not installed (.ci/run installs them)';
// Newer minor releases (15.20) allow only listed output plugins; the server's own setting list says whether this one does.
const knowsAllowList = 'skip' in debian ? false : (await describeConfig(debian.binDir)).split('\n').some((l) => l.startsWith('output_plugin_libraries\t'));

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
      "cron.use_background_workers: (unset) -> 'on' (needs a restart)",
      "cron.database_name: (unset) -> 'jobs' (needs a restart)",
      "wal_level: (unset) -> 'logical' (needs a restart)",
      "shared_preload_libraries: (unset) -> 'pg_cron,pg_stat_statements' (needs a restart)",
      ...(knowsAllowList ? ["output_plugin_libraries: (unset) -> 'pgoutput, test_decoding, wal2json' (reload)"] : []),
    ]);
    expect(byId.settings!.notes).toEqual([
      'cron.use_background_workers: needed by pg_cron',
      'cron.database_name: needed by pg_cron',
      'wal_level: needed by wal2json',
      'shared_preload_libraries: needed by pg_cron, pg_stat_statements',
      ...(knowsAllowList ? ['output_plugin_libraries: needed by wal2json'] : []),
    ]);
    expect(byId.start!.changes).toEqual([expect.stringMatching(/^restarted the server \(cron\.use_background_workers, cron\.database_name, wal_level, shared_preload_libraries take effect only at start\)/)]);
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
    // The server reads each entry of the list: wal2json decodes a change, and the default's test_decoding still works.
    const decoded = await withClient(connectionFor(target, 'app'), async (c) => {
      await c.query("SELECT pg_create_logical_replication_slot('w2j', 'wal2json', true)");
      await c.query('CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (7)');
      return (await c.query<{ data: string }>("SELECT data FROM pg_logical_slot_get_changes('w2j', NULL, NULL)")).rows.map((r) => r.data).join('');
    });
    expect(decoded).toMatch(/"columnvalues":\[7\]/);
    await query(target, 'app', "SELECT pg_drop_replication_slot(slot_name) FROM pg_create_logical_replication_slot('td', 'test_decoding', true)");

    const after = await startTime(target);
    const again = await go();
    expect(again.flatMap((r) => r.changes)).toEqual([]);
    expect(await startTime(target)).toBe(after);
  });

  it.skipIf(!knowsAllowList)('names an output plugin the server does not allow as such, with the setting to change (external server)', async () => {
    const { target } = await run({ ...base, extensions: ['wal2json'] });
    await query(target, 'postgres', "ALTER SYSTEM SET output_plugin_libraries = 'pgoutput', 'test_decoding'");
    await query(target, 'postgres', 'SELECT pg_reload_conf()');
    try {
      const url = `postgresql://postgres:${encodeURIComponent(readPassword(target.layout)!)}@127.0.0.1:${project.config.port}/app`;
      const config = resolveConfig({ ...base, port: project.config.port, extensions: ['wal2json'] }, { file: path.join(project.dir, 'extensions.config.mjs'), projectDir: project.dir });
      const external = await selectTarget(config, { url, env: testEnv() });
      const serverVersion = (await query<{ server_version: string }>(target, 'postgres', 'SHOW server_version'))[0]!.server_version;
      const error = (await runStepsQuietly([extensionsStep], config, external).catch((e: unknown) => e)) as PgstrapError;
      expect(error.code).toBe('extension.missing');
      expect(error.details).toEqual([
        `wal2json (app): the output plugin wal2json is not allowed on external server 127.0.0.1:${project.config.port}/app (PostgreSQL ${serverVersion}): ` +
          'output_plugin_libraries is "pgoutput, test_decoding" and the server refuses a slot with any other plugin',
        "  fix: Set output_plugin_libraries = 'pgoutput, test_decoding, wal2json' on that server and reload it (pgstrap changes no setting of an external server).",
      ]);
    } finally {
      await query(target, 'postgres', 'ALTER SYSTEM RESET output_plugin_libraries');
      await query(target, 'postgres', 'SELECT pg_reload_conf()');
    }
  });

  it('asks the server for its setting list once per binaries: later runs read the kept copy', async () => {
    const { target } = await run(base);
    const file = target.layout.programAnswers;
    const key = `postgres --describe-config ${path.join(target.binaries.binDir, 'postgres')}`;
    type Answers = Record<string, { identity: string; answer: string }>;
    const answers = JSON.parse(fs.readFileSync(file, 'utf8')) as Answers;
    const kept = answers[key]!;
    const lines = kept.answer.split('\n');
    // The kept copy is the server's own list: with the allow-list setting exactly where this minor release has it.
    expect(lines.some((l) => l.startsWith('output_plugin_libraries\t'))).toBe(knowsAllowList);
    expect(lines.some((l) => l.startsWith('wal_level\t'))).toBe(true);
    // A kept list without a setting every release has, under the same identity, is believed: nothing spawned to check.
    const without = lines.filter((l) => !l.startsWith('wal_level\t')).join('\n');
    const rewrite = (identity: string) => fs.writeFileSync(file, JSON.stringify({ ...answers, [key]: { identity, answer: without } }), { mode: 0o600 });
    rewrite(kept.identity);
    const script = `
      import { readKnownSettings } from './scripts/server/binaries.ts';
      const known = await readKnownSettings(${JSON.stringify(target.binaries)}, ${JSON.stringify(file)});
      console.log(JSON.stringify([known.has('wal_level'), known.has('port'), known.has('output_plugin_libraries')]));`;
    const fresh = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT });
    expect(fresh.stdout).toBe(`[false,true,${knowsAllowList}]`);
    // Another identity (other binaries, or these after an upgrade) asks the server again, and keeps its answer.
    rewrite('other');
    const again = await execa(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: REPO_ROOT });
    expect(again.stdout).toBe(`[true,true,${knowsAllowList}]`);
    expect((JSON.parse(fs.readFileSync(file, 'utf8')) as Answers)[key]).toEqual(kept);
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
      expect((error as PgstrapError).details.join('\n')).toMatch(/The embedded engine has contrib extensions only\. The flake builds it \(postgresql_17\.pkgs\.pgvector\)/);
      expect(fs.existsSync(path.join(target.layout.dataDir, 'PG_VERSION'))).toBe(false);
    } finally {
      await project.remove();
    }
  });
});
