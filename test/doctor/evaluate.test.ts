/**
 * The doctor's pure core, without a server: verdicts from hand-made facts, range and unit comparisons,
 * log extraction, the summary, and how a fix hint is read as commands.
 */
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { FAST_RANDOM_CAVEAT } from '../../scripts/uuidv7/sql.ts';
import { lastErrors } from '../../scripts/doctor/cluster-checks.ts';
import { evaluateDoctor } from '../../scripts/doctor/evaluate.ts';
import type { ClusterFacts, CronFact, CronJobFact, ServerFacts } from '../../scripts/doctor/facts.ts';
import { databaseChecks } from '../../scripts/doctor/database-checks.ts';
import { check, summarise } from '../../scripts/doctor/model.ts';
import { satisfiesNodeRange } from '../../scripts/doctor/node-range.ts';
import { settingMatches } from '../../scripts/server/setting-values.ts';
import { hintCommands } from './support.ts';
import { doctorFacts as facts } from './fixtures.ts';

function cluster(overrides: Partial<ClusterFacts> = {}): ClusterFacts {
  return {
    initialised: true, dataMajor: 17, running: true, pid: 42, port: 5417, stalePid: undefined,
    dataDir: { path: '/p/.pgstrap/data', exists: true, mode: 0o700, uid: 101 }, logFile: '/p/.pgstrap/log/postgresql.log', logTail: [],
    configuredPort: 5417, portFree: undefined, portHolder: undefined, owner: { uid: 101, name: 'postgres' }, managedConf: {}, desiredConf: {},
    ...overrides,
  };
}

function server(overrides: Partial<ServerFacts> = {}): ServerFacts {
  return {
    connection: { ok: true, where: 'postgres@127.0.0.1:5432/app', error: undefined, sqlState: undefined },
    version: '16.4', versionNum: 160004, preloaded: [], settings: [],
    extensions: { kind: 'external', label: 'external server', major: 16, available: new Map([['pgcrypto', '1.3']]), versions: new Map(), settings: {}, outputPlugins: new Map() },
    ...overrides,
  };
}

const byId = (checks: ReturnType<typeof evaluateDoctor>['checks'], id: string) => checks.find((c) => c.id === id);

describe('doctor verdicts from facts', () => {
  it('warns inside nix develop when pgstrap fell back to the embedded engine', () => {
    const shell = byId(evaluateDoctor(facts({ environment: { ...facts().environment, nixShell: 'impure' } })).checks, 'toolchain.shell');
    expect(shell?.status).toBe('warn');
    expect(byId(evaluateDoctor(facts()).checks, 'toolchain.shell')?.status).toBe('ok');
  });

  it('warns about missing embedded binaries only where they are the fallback', () => {
    const missing = { ok: false as const, error: { code: 'engine.embedded-missing', message: 'no embedded PostgreSQL 17 binaries', details: [], remedy: 'npm ci' } };
    expect(byId(evaluateDoctor(facts({ embedded: missing })).checks, 'toolchain.embedded')).toMatchObject({ status: 'warn', fix: 'npm ci' });
    expect(byId(evaluateDoctor(facts({ embedded: missing, engineChoice: 'system' })).checks, 'toolchain.embedded')?.status).toBe('ok');
  });

  it('fails an old Node with the range it needs', () => {
    const node = byId(evaluateDoctor(facts({ environment: { ...facts().environment, nodeVersion: '18.19.0' } })).checks, 'toolchain.node');
    expect(node).toMatchObject({ status: 'fail', message: expect.stringContaining('>=20.5') });
  });

  it("warns on a Node older than pgstrap supports (its own engines.node), apart from the app's own range", () => {
    const env = { ...facts().environment, nodeVersion: '18.19.0', nodeRange: undefined, pgstrapNodeRange: '>=20.5' };
    expect(byId(evaluateDoctor(facts({ environment: env })).checks, 'toolchain.pgstrap-node')).toMatchObject({ status: 'warn', message: expect.stringMatching(/older than pgstrap supports \(>=20.5\)/), fix: expect.stringContaining('Node 22') });
    // Node 20 is supported (and tested) but past its end of life: a warning, in an app and in this repository alike.
    for (const range of ['>=20.5', undefined]) {
      const node20 = byId(evaluateDoctor(facts({ environment: { ...env, nodeVersion: '20.20.2', pgstrapNodeRange: range } })).checks, 'toolchain.pgstrap-node');
      expect(node20).toMatchObject({ status: 'warn', message: expect.stringContaining('end of life in April 2026') });
    }
    expect(byId(evaluateDoctor(facts({ environment: { ...env, nodeVersion: '22.12.0' } })).checks, 'toolchain.pgstrap-node')?.status).toBe('ok');
    expect(byId(evaluateDoctor(facts({ environment: { ...env, nodeVersion: '22.12.0', pgstrapNodeRange: undefined } })).checks, 'toolchain.pgstrap-node')).toBeUndefined();
  });

  it('tells a moved port apart from a port another process holds', () => {
    const moved = byId(evaluateDoctor(facts({ cluster: cluster({ port: 5418 }) })).checks, 'cluster.port');
    expect(moved).toMatchObject({ status: 'warn', fix: 'npm run db:stop && npm run db:start' });
    const taken = byId(evaluateDoctor(facts({ cluster: cluster({ port: 5418, portFree: false, portHolder: 'pid 7 (postgres)' }) })).checks, 'cluster.port');
    expect(taken).toMatchObject({ status: 'fail', message: expect.stringContaining('pid 7 (postgres)') });
  });

  it('names the loopback address another process holds the port on, ::1 included', () => {
    const stopped = { running: false, pid: undefined, port: undefined };
    const onV6 = byId(evaluateDoctor(facts({ cluster: cluster({ ...stopped, portFree: false, portTakenOn: '::1', portHolder: 'pid 9 (nc)' }) })).checks, 'cluster.port');
    expect(onV6).toMatchObject({ status: 'fail', message: 'port 5417 on ::1 is held by pid 9 (nc), not this cluster', fix: 'Stop pid 9 (nc), or set port in the config to a free port' });
  });

  it('fails a data directory of another owner or wider than 0750, without a safe repair for the owner', () => {
    const owner = byId(evaluateDoctor(facts({ cluster: cluster({ dataDir: { path: '/d', exists: true, mode: 0o700, uid: 0 } }) })).checks, 'cluster.data-dir');
    expect(owner).toMatchObject({ status: 'fail', fix: 'chown -R postgres /d', repair: undefined });
    const group = byId(evaluateDoctor(facts({ cluster: cluster({ dataDir: { path: '/d', exists: true, mode: 0o750, uid: 101 } }) })).checks, 'cluster.data-dir');
    expect(group?.status).toBe('ok');
  });

  it('fails a disk too full for the server, warns on a nearly full one, and says nothing it could not read', () => {
    const MB = 1024 * 1024;
    const disk = (free: number, running = true) => byId(evaluateDoctor(facts({ cluster: cluster({ running, disk: { dir: '/p/.pgstrap/data', free, total: 1024 * MB } }) })).checks, 'cluster.disk');
    expect(disk(8 * 1024, false)).toMatchObject({ status: 'fail', message: '8.0 KB free of 1.0 GB on the disk that holds /p/.pgstrap/data: too little for the server to start or write', fix: expect.stringMatching(/is full \(`df -h \/p\/\.pgstrap\/data`\).*then npm run db:start\.$/) });
    expect(disk(100 * MB)).toMatchObject({ status: 'warn', fix: expect.stringContaining('is nearly full') });
    // Not running on a full disk: --fix would try a start that cannot work.
    const stopped = byId(evaluateDoctor(facts({ cluster: cluster({ running: false, disk: { dir: '/p/.pgstrap/data', free: 0, total: MB } }) })).checks, 'cluster.running');
    expect(stopped).toMatchObject({ status: 'fail', repair: undefined, fix: expect.stringMatching(/is full/) });
    expect(byId(evaluateDoctor(facts({ cluster: cluster({ running: false }) })).checks, 'cluster.running')).toMatchObject({ repair: 'start' });
    expect(disk(900 * MB)).toMatchObject({ status: 'ok', message: '900.0 MB free of 1.0 GB on the disk that holds /p/.pgstrap/data' });
    expect(byId(evaluateDoctor(facts({ cluster: cluster() })).checks, 'cluster.disk')).toBeUndefined();
    // A server that died of a full disk: the log check's fix is the disk's, not "fix what the log names".
    const log = byId(evaluateDoctor(facts({ cluster: cluster({ running: false, logTail: ['2026-12-02 04:21:56 UTC [31523] FATAL:  could not write lock file "postmaster.pid": No space left on device'] }) })).checks, 'cluster.log');
    expect(log?.fix).toMatch(/^The disk that holds \/p\/\.pgstrap is full/);
  });

  it("names the fallback's random bits, and warns when they are not the ones the config asks for", () => {
    const withUuidv7 = (fallbackRandom: 'fast' | 'strong') =>
      facts({
        server: server({ version: '17.5', versionNum: 170005 }),
        databases: [{ name: 'app', connection: { ok: true, where: 'app', error: undefined, sqlState: undefined }, installed: new Map(), uuidv7: { strategy: 'fallback', fallbackRandom, sample: ['019a0000-0000-7000-8000-000000000001', '019a0000-0000-7000-8000-000000000002'], error: undefined }, migrations: undefined }],
      });
    expect(byId(evaluateDoctor(withUuidv7('strong')).checks, 'db.app.uuidv7')).toMatchObject({ status: 'ok', message: "uuidv7() (pgstrap's SQL fallback, random bits from gen_random_uuid()) returns version-7 ids" });
    expect(byId(evaluateDoctor(withUuidv7('fast')).checks, 'db.app.uuidv7')).toMatchObject({
      status: 'warn',
      message: "uuidv7() (pgstrap's SQL fallback, random bits from random()) returns version-7 ids, but the config asks for uuidv7.fallbackRandom: 'strong'",
      fix: 'npm run setup',
    });
  });

  it('warns when uuidv7() is not the generator uuidv7.generator asks for where pg_uuidv7 is installed', () => {
    const wrapper = facts({
      server: server({ version: '17.5', versionNum: 170005 }),
      databases: [{ name: 'app', connection: { ok: true, where: 'app', error: undefined, sqlState: undefined }, installed: new Map([['pg_uuidv7', { version: '1.6', schema: 'public' }]]), uuidv7: { strategy: 'pg_uuidv7', fallbackRandom: undefined, sample: ['019a0000-0000-7000-8000-000000000001', '019a0000-0000-7000-8000-000000000002'], error: undefined }, migrations: undefined }],
    });
    expect(byId(evaluateDoctor(wrapper).checks, 'db.app.uuidv7')).toMatchObject({ status: 'warn', message: "uuidv7() (pg_uuidv7) returns version-7 ids, but the config asks for uuidv7.generator: 'fallback'", repair: 'uuidv7' });
    const chosen = resolveConfig({ databases: ['app'], uuidv7: { generator: 'pg_uuidv7' } }, { file: '/p/extensions.config.ts', projectDir: '/p' });
    expect(byId(evaluateDoctor({ ...wrapper, config: { ok: true, value: chosen } }).checks, 'db.app.uuidv7')?.status).toBe('ok');
  });

  it('checks an external server: version against the config, missing extensions, the uuidv7 path, no cluster checks', () => {
    const external = facts({
      engine: { ok: true, kind: 'external', description: 'external server db:5432', choice: '--url', binaries: undefined, mayCreateDatabases: true },
      server: server(),
    });
    const { checks } = evaluateDoctor(external);
    expect(byId(checks, 'external.version')).toMatchObject({ status: 'warn', message: 'PostgreSQL 16.4; the config declares postgresMajor 17' });
    expect(byId(checks, 'external.extensions')).toMatchObject({ status: 'warn', message: 'lacks vector (optional)' });
    expect(byId(checks, 'external.uuidv7')).toMatchObject({
      status: 'ok',
      message: "uuidv7() here: pgstrap's SQL fallback, random bits from gen_random_uuid() (no pg_uuidv7 here)",
      details: [],
    });
    const fast = resolveConfig({ databases: ['app'], uuidv7: { fallbackRandom: 'fast' } }, { file: '/p/extensions.config.ts', projectDir: '/p' });
    expect(byId(evaluateDoctor({ ...external, config: { ok: true, value: fast } }).checks, 'external.uuidv7')).toMatchObject({
      message: "uuidv7() here: pgstrap's SQL fallback, random bits from random() (no pg_uuidv7 here)",
      details: [FAST_RANDOM_CAVEAT],
    });
    expect(checks.some((c) => c.group === 'cluster' || c.group === 'connectivity')).toBe(false);
    const unreachable = evaluateDoctor({ ...external, server: server({ connection: { ok: false, where: 'db', error: 'ECONNREFUSED', sqlState: undefined } }) });
    expect(byId(unreachable.checks, 'external.reachable')?.status).toBe('fail');
    expect(unreachable.skipped).toEqual(['database checks: no connection to the server']);
  });

  it('never calls a server it reached unreachable: a failed read is said as such, with no verdict made up from it', () => {
    const reached = { ok: true, where: 'app_owner@db/app', error: undefined, sqlState: '42501', readError: 'permission denied for table x' };
    const { checks } = evaluateDoctor(
      facts({
        engine: { ok: true, kind: 'external', description: 'external server db/app', choice: '--url', binaries: undefined, mayCreateDatabases: false },
        server: server({ connection: reached, extensions: undefined }),
        databases: [{ name: 'app', connection: reached, installed: new Map(), uuidv7: undefined, migrations: undefined }],
      }),
    );
    expect(checks.filter((c) => c.group !== 'toolchain' && c.group !== 'config').map((c) => [c.id, c.status, c.message])).toEqual([
      ['external.reachable', 'ok', 'reachable: app_owner@db/app'],
      ['external.read', 'fail', "reached, but reading the server's state failed: permission denied for table x"],
      ['db.app.exists', 'ok', 'exists'],
      ['db.app.read', 'fail', 'connected, but reading its extensions, uuidv7() and migrations failed: permission denied for table x'],
    ]);
  });
});

describe('doctor check model (pure)', () => {
  it('matches engines.node ranges', () => {
    expect(satisfiesNodeRange('20.20.2', '>=20.5')).toBe(true);
    expect(satisfiesNodeRange('20.4.0', '>=20.5')).toBe(false);
    expect(satisfiesNodeRange('22.1.0', '^20.5.0 || ^22')).toBe(true);
    expect(satisfiesNodeRange('21.0.0', '^20.5.0 || ^22')).toBe(false);
    expect(satisfiesNodeRange('20.9.1', '~20.9')).toBe(true);
    expect(satisfiesNodeRange('20.10.0', '~20.9')).toBe(false);
    expect(satisfiesNodeRange('20.1.0', '20.x')).toBe(true);
    expect(satisfiesNodeRange('21.1.0', '>= 20 < 21')).toBe(false);
  });

  it('compares settings in the server units pg_settings reports', () => {
    const setting = (s: string, unit: string | undefined, vartype: string) => ({ name: 'x', setting: s, unit, vartype, pendingRestart: false });
    expect(settingMatches('256MB', setting('32768', '8kB', 'integer'))).toBe(true);
    expect(settingMatches('128MB', setting('32768', '8kB', 'integer'))).toBe(false);
    expect(settingMatches('5min', setting('300', 's', 'integer'))).toBe(true);
    expect(settingMatches('on', setting('on', undefined, 'bool'))).toBe(true);
    expect(settingMatches('true', setting('on', undefined, 'bool'))).toBe(true);
    expect(settingMatches('logical', setting('logical', undefined, 'enum'))).toBe(true);
  });

  it('picks the log lines of the process that logged the last FATAL', () => {
    const tail = [
      '10:00 UTC [11] LOG:  database system is shut down',
      '10:01 UTC [12] LOG:  unrecognized configuration parameter "x" in file "pgstrap.conf" line 6',
      '10:01 UTC [12] FATAL:  configuration file "pgstrap.conf" contains errors',
    ];
    expect(lastErrors(tail)).toEqual(tail.slice(1));
    expect(lastErrors(['[5] ERROR:  boom', '[6] LOG:  fine'])).toEqual(['[5] ERROR:  boom']);
    expect(lastErrors(['[6] LOG:  fine'])).toEqual([]);
  });

  it('fails on warnings only under --strict, and runs the backticked command of a hint', () => {
    const warn = [check('a', 'toolchain', 'ok', 'fine'), check('b', 'toolchain', 'warn', 'hmm', { fix: 'npm run setup' })];
    expect(summarise(warn, [], false)).toMatchObject({ healthy: true, exit: 0 });
    expect(summarise(warn, [], true)).toMatchObject({ healthy: false, exit: 1 });
    expect(check('c', 'toolchain', 'ok', 'fine', { fix: 'x', repair: 'start' })).toMatchObject({ fix: undefined, repair: undefined });
    expect(hintCommands('Restore it, or `npm run migrate -- --accept 1` records it')).toEqual(['npm run migrate -- --accept 1']);
    expect(hintCommands('npm run db:stop && npm run db:start')).toEqual(['npm run db:stop', 'npm run db:start']);
  });

  it("reports pg_cron jobs whose last run never started, with what makes them start", () => {
    const job = (id: number, lastMessage: string | undefined, lastStatus: string | undefined = 'failed'): CronJobFact => ({
      id, name: `j${id}`, schedule: '* * * * *', command: 'SELECT 1', user: 'postgres', lastStatus, lastMessage, lastStart: undefined,
    });
    const cronOf = (cron: CronFact) =>
      databaseChecks([{ name: 'app', connection: { ok: true, where: 'app', error: undefined, sqlState: undefined }, installed: new Map(), uuidv7: undefined, migrations: undefined, cron }], [], undefined, true, { fallbackRandom: 'fast', generator: 'fallback' })
        .find((c) => c.id === 'db.app.cron')!;
    const viaTcp = cronOf({ host: 'localhost', backgroundWorkers: false, runsRecorded: true, jobs: [job(1, 'connection failed'), job(2, 'SELECT 1', 'succeeded')], error: undefined });
    expect(viaTcp).toMatchObject({ status: 'fail', message: 'pg_cron: the last run of 1 of 2 active jobs never started, so they do not run' });
    expect(viaTcp.details).toEqual(["job 1 (j1), '* * * * *', as postgres: never started, failed: connection failed"]);
    expect(viaTcp.fix).toMatch(/^pg_cron connects for each job to the host it was scheduled with \(cron\.job\.nodename; cron\.host is localhost\), over TCP, .*Set cron\.use_background_workers = on: on a managed cluster `npm run setup` writes it/);
    const noWorker = cronOf({ host: 'localhost', backgroundWorkers: true, runsRecorded: true, jobs: [job(3, 'could not start background process; more details may be available in the server log')], error: undefined });
    expect(noWorker.fix).toMatch(/raise max_worker_processes/);
    expect(cronOf({ host: undefined, backgroundWorkers: true, runsRecorded: true, jobs: [{ ...job(4, undefined), lastStatus: undefined }], error: undefined })).toMatchObject({
      status: 'ok',
      message: 'pg_cron: 1 active job, none has run yet',
    });
  });
});
