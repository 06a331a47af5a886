/** The catalogue, extension settings, config rules and the planner: pure, no server. */
import { describe, expect, it } from 'vitest';
import type { ResolvedExtension } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { isPgstrapError } from '../../scripts/shared/errors.ts';
import { retainSettingsInUse, settingsForExtensions } from '../../scripts/extensions/settings.ts';
import { CATALOGUE, findExtension } from '../../scripts/extensions/catalogue.ts';
import { installedChecker } from '../../scripts/extensions/installed.ts';
import {
  compareExtensionVersions,
  describeExtensionAction,
  downgradeRemedy,
  extensionActionSql,
  planExtensions,
  undeclaredExtensions,
  type ServerExtensionFacts,
} from '../../scripts/extensions/plan.ts';

const source = { file: '/project/extensions.config.ts', projectDir: '/project' };

function ext(name: string, fields: Partial<ResolvedExtension> = {}): ResolvedExtension {
  return { name, required: true, databases: ['app'], schema: undefined, version: undefined, ...fields };
}

function server(fields: Partial<ServerExtensionFacts> = {}): ServerExtensionFacts {
  return {
    kind: 'system',
    label: 'system PostgreSQL 17.5 (PG_BIN)',
    major: 17,
    available: new Map([['pgcrypto', '1.3'], ['vector', '0.8.0'], ['pg_cron', '1.6'], ['ulid', '0.2.0']]),
    versions: new Map([['vector', ['0.7.0', '0.8.0']]]),
    settings: {},
    outputPlugins: new Map(),
    ...fields,
  };
}

describe('extension catalogue', () => {
  it('has one entry per CREATE EXTENSION name, each with a purpose', () => {
    const names = CATALOGUE.map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    for (const entry of CATALOGUE) expect(entry.purpose.length).toBeGreaterThan(10);
    for (const name of ['pg_uuidv7', 'vector', 'pgmq', 'pgsodium', 'pgx_ulid', 'pg_net', 'h3', 'h3_postgis', 'timescaledb',
      'timescaledb_toolkit', 'vectors', 'pg_cron', 'postgis', 'wal2json', 'pgcrypto', 'pg_trgm', 'uuid-ossp', 'citext', 'hstore', 'pg_stat_statements']) {
      expect(findExtension(name), name).toBeDefined();
    }
  });

  it('carries the facts read from nixpkgs and upstream', () => {
    expect(findExtension('vector')?.nixAttr).toBe('pgvector');
    expect(findExtension('h3_postgis')).toMatchObject({ nixAttr: 'h3-pg', requires: ['h3', 'postgis'] });
    expect(findExtension('pgx_ulid')).toMatchObject({ nixAttr: 'pgx_ulid', nixInstallsAs: 'ulid' });
    expect(findExtension('ulid')?.nixAttr).toBe('pgx_ulid');
    expect(findExtension('vectors')).toMatchObject({ nixAttr: 'pgvecto-rs', replacedBy: 'vchord' });
    expect(findExtension('vectors')?.unavailable).toMatch(/broken on PostgreSQL 17.*VectorChord/);
    expect(findExtension('timescaledb')).toMatchObject({ unfree: true, freeNixAttr: 'timescaledb-apache', preload: 'timescaledb' });
    expect(findExtension('timescaledb_toolkit')?.unfree).toBe(true);
    expect(findExtension('pg_cron')).toMatchObject({ preload: 'pg_cron', singleDatabaseSetting: 'cron.database_name' });
    expect(findExtension('pg_net')).toMatchObject({ preload: 'pg_net', singleDatabaseSetting: 'pg_net.database_name' });
    expect(findExtension('wal2json')).toMatchObject({ kind: 'output-plugin', settings: { wal_level: 'logical' } });
    expect(findExtension('pg_stat_statements')).toMatchObject({ contrib: true, nixAttr: undefined, preload: 'pg_stat_statements' });
    expect(findExtension('my_own_extension')).toBeUndefined();
  });
});

describe('settings for extensions', () => {
  it('merges preloads after the config\'s own and adds what extensions need', () => {
    const config = resolveConfig(
      { extensions: ['pg_cron', 'wal2json', 'pg_stat_statements', 'pgcrypto'], settings: { shared_preload_libraries: 'auto_explain, pg_cron' } },
      source,
    );
    expect(settingsForExtensions(config)).toEqual({
      shared_preload_libraries: 'auto_explain,pg_cron,pg_stat_statements',
      'cron.database_name': 'app',
      wal_level: 'logical',
    });
  });

  it('adds output plugins to output_plugin_libraries only where the server knows that setting, keeping its entries', () => {
    const config = resolveConfig({ extensions: ['wal2json'] }, source);
    expect(settingsForExtensions(config, undefined, { outputPluginDefault: 'pgoutput, test_decoding' })).toEqual({
      wal_level: 'logical',
      output_plugin_libraries: 'pgoutput, test_decoding, wal2json',
    });
    // An older server has no such setting and would refuse to start with it in the file.
    expect(settingsForExtensions(config, undefined, { outputPluginDefault: undefined })).toEqual({ wal_level: 'logical' });
    expect(settingsForExtensions(config)).toEqual({ wal_level: 'logical' });
    // The config's own list comes first; a plugin already listed is not added twice.
    const own = resolveConfig({ extensions: ['wal2json'], settings: { output_plugin_libraries: 'pgoutput, my_plugin' } }, source);
    expect(settingsForExtensions(own, undefined, { outputPluginDefault: 'pgoutput, test_decoding' }).output_plugin_libraries).toBe('pgoutput, my_plugin, wal2json');
    const listed = resolveConfig({ extensions: ['wal2json'], settings: { output_plugin_libraries: 'wal2json' } }, source);
    expect(settingsForExtensions(listed, undefined, { outputPluginDefault: 'pgoutput' })).toEqual({ wal_level: 'logical' });
  });

  it('leaves out what the installation does not have, so the server still starts', () => {
    const config = resolveConfig({ extensions: [{ name: 'pg_cron', required: false }, 'pg_stat_statements', 'wal2json'] }, source);
    const isInstalled = installedChecker({ extensions: new Set(['pg_cron', 'pg_stat_statements']), libraries: new Set(['pg_stat_statements']) });
    // pg_cron's control file without its library does not count: preloading it would stop the server.
    expect(settingsForExtensions(config, isInstalled)).toEqual({ shared_preload_libraries: 'pg_stat_statements' });
  });
});

describe('preloads in use and undeclared extensions', () => {
  const current = { port: '1', 'cron.database_name': 'jobs', shared_preload_libraries: 'pg_cron,pg_stat_statements' };
  const desired = { port: '1', shared_preload_libraries: 'pg_stat_statements' };
  const all = () => true;

  it('keeps the preload and settings of an installed extension the config dropped, and only then', () => {
    expect(retainSettingsInUse(current, desired, new Map([['pg_cron', ['jobs']]]), all)).toEqual({
      settings: { port: '1', shared_preload_libraries: 'pg_stat_statements,pg_cron', 'cron.database_name': 'jobs' },
      retained: [{ name: 'pg_cron', databases: ['jobs'] }],
    });
    expect(retainSettingsInUse(current, desired, new Map([['pgcrypto', ['app']]]), all)).toEqual({ settings: desired, retained: [] });
    // The server is down, so nobody can say: what is loaded now stays.
    expect(retainSettingsInUse(current, desired, undefined, all).retained).toEqual([{ name: 'pg_cron', databases: [] }]);
    // A library the binaries lost would stop the server at start: it goes.
    expect(retainSettingsInUse(current, desired, new Map([['pg_cron', ['jobs']]]), (n) => n !== 'pg_cron').retained).toEqual([]);
  });

  it('reports installed extensions nothing declares, but not plpgsql nor what another one requires', () => {
    const installed = new Map([
      ['plpgsql', { version: '1.0', schema: 'pg_catalog', requires: [] }],
      ['vector', { version: '0.8.0', schema: 'public', requires: [] }],
      ['vchord', { version: '0.4.0', schema: 'public', requires: ['vector'] }],
      ['pgcrypto', { version: '1.3', schema: 'public', requires: [] }],
      ['citext', { version: '1.6', schema: 'public', requires: [] }],
    ]);
    const found = undeclaredExtensions([ext('citext')], [{ database: 'app', installed }]);
    expect(found.map((u) => [u.name, u.dropSql, u.warning !== undefined])).toEqual([
      ['pgcrypto', 'DROP EXTENSION "pgcrypto";', false],
      ['vchord', 'DROP EXTENSION "vchord";', true],
    ]);
  });
});

describe('pinned versions', () => {
  it('compares versions by number and plans a downgrade as refused, never as an update', () => {
    expect([compareExtensionVersions('1.10', '1.9'), compareExtensionVersions('1.4', '1.4-1'), compareExtensionVersions('1.5', '1.5'), compareExtensionVersions('1.0beta', '1.0')]).toEqual([1, -1, 0, undefined]);
    const plan = planExtensions(
      [ext('pg_uuidv7', { version: '1.5' })],
      server({ available: new Map([['pg_uuidv7', '1.6']]), versions: new Map([['pg_uuidv7', ['1.5', '1.6']]]) }),
      [{ database: 'app', installed: new Map([['pg_uuidv7', { version: '1.6', schema: 'public' }]]) }],
    );
    expect(plan.databases[0]!.actions).toEqual([]);
    expect(plan.downgrades).toEqual([{ database: 'app', name: 'pg_uuidv7', installed: '1.6', pinned: '1.5', available: ['1.5', '1.6'] }]);
    expect(downgradeRemedy(plan.downgrades[0]!)).toBe(
      "Pin the installed version (version: '1.6') or drop version; to really go back, drop it in app (DROP EXTENSION \"pg_uuidv7\"; it fails while objects use it) and run `npm run setup`, which creates 1.5.",
    );
  });
});

describe('config rules from the catalogue', () => {
  function problems(raw: Record<string, unknown>): string[] {
    try {
      resolveConfig(raw, source);
      return [];
    } catch (error) {
      if (!isPgstrapError(error)) throw error;
      expect(error.code).toBe('config.invalid');
      expect(error.message).toContain('/project/extensions.config.ts');
      return error.details;
    }
  }

  it('refuses pg_cron and pg_net declared for two databases, naming the key', () => {
    const details = problems({ databases: ['app', 'app_test'], extensions: ['pgcrypto', 'pg_cron', { name: 'pg_net', databases: ['app', 'app_test'] }] });
    expect(details).toEqual([
      expect.stringMatching(/^extensions\[1\]\.databases: pg_cron works in one database per cluster \(cron\.database_name\)/),
      expect.stringMatching(/^extensions\[2\]\.databases: pg_net works in one database per cluster \(pg_net\.database_name\)/),
    ]);
    expect(problems({ databases: ['app', 'app_test'], extensions: [{ name: 'pg_cron', databases: ['app_test'] }] })).toEqual([]);
  });

  it('refuses settings that contradict an extension', () => {
    expect(problems({ extensions: ['wal2json'], settings: { wal_level: 'replica' } })).toEqual([
      expect.stringMatching(/^settings\.wal_level: is "replica", but wal2json needs "logical"/),
    ]);
    expect(problems({ databases: ['app', 'jobs'], extensions: [{ name: 'pg_cron', databases: ['jobs'] }], settings: { 'cron.database_name': 'app' } })).toEqual([
      expect.stringMatching(/^settings\.cron\.database_name: is "app", but pg_cron is declared for database "jobs"/),
    ]);
  });
});

describe('extension planner', () => {
  it('plans create, update to a pinned version, and nothing', () => {
    const plan = planExtensions(
      [ext('pgcrypto'), ext('vector', { version: '0.8.0', schema: 'extensions' })],
      server(),
      [{ database: 'app', installed: new Map([['pgcrypto', { version: '1.3', schema: 'public' }], ['vector', { version: '0.7.0', schema: 'extensions' }]]) }],
    );
    expect(plan.missing).toEqual([]);
    expect(plan.databases).toEqual([{ database: 'app', actions: [{ kind: 'update', name: 'vector', from: '0.7.0', to: '0.8.0' }] }]);
    const fresh = planExtensions([ext('pgcrypto'), ext('vector', { version: '0.8.0', schema: 'extensions' })], server(), [{ database: 'app', installed: new Map() }]);
    expect(fresh.databases[0]!.actions).toEqual([
      { kind: 'create', name: 'pgcrypto', schema: undefined, version: undefined },
      { kind: 'create', name: 'vector', schema: 'extensions', version: '0.8.0' },
    ]);
    expect(describeExtensionAction('app', fresh.databases[0]!.actions[1]!)).toBe('app: created extension vector (version 0.8.0, schema extensions)');
  });

  it('names the extension, the server and the fix for a missing one', () => {
    const plan = planExtensions([ext('pgmq'), ext('postgis', { required: false })], server(), [{ database: 'app', installed: new Map() }]);
    expect(plan.missing).toEqual([
      expect.objectContaining({ name: 'pgmq', required: true, databases: ['app'], reason: expect.stringContaining('system PostgreSQL 17.5') }),
      expect.objectContaining({ name: 'postgis', required: false }),
    ]);
    expect(plan.missing[0]!.fix).toMatch(/postgresql_17\.pkgs\.pgmq.*nix develop.*required: false/);
    expect(plan.missing[1]!.fix).not.toMatch(/required: false/);
    expect(plan.databases[0]!.actions).toEqual([]);
  });

  it('says when nixpkgs installed pgx_ulid as ulid, and when an extension is gone from nixpkgs', () => {
    const plan = planExtensions([ext('pgx_ulid'), ext('vectors')], server(), [{ database: 'app', installed: new Map() }]);
    expect(plan.missing[0]!.reason).toMatch(/pgx_ulid is not available .* but ulid is: .*declare ulid/);
    expect(plan.missing[1]!.fix).toMatch(/nixpkgs cannot provide it .*Declare vchord instead/);
  });

  it('reports, and does not apply, a preload an external server lacks', () => {
    const plan = planExtensions([ext('pg_cron')], server({ kind: 'external', settings: { shared_preload_libraries: '' } }), [{ database: 'app', installed: new Map() }]);
    expect(plan.missing[0]!.reason).toMatch(/must be in shared_preload_libraries .*changes no setting of an external server.*restart/);
    // The fix is the server setting, not installing what the server already has.
    expect(plan.missing[0]!.fix).toBe(
      "Set shared_preload_libraries = 'pg_cron' in the provider's parameter group / server parameters (or postgresql.conf), restart the server, then run `npm run setup`. Or mark it optional: { name: 'pg_cron', required: false }.",
    );
    const ready = planExtensions(
      [ext('pg_cron')],
      server({ kind: 'external', settings: { shared_preload_libraries: 'pg_cron', 'cron.database_name': 'app' } }),
      [{ database: 'app', installed: new Map() }],
    );
    expect(ready.missing).toEqual([]);
  });

  it('refuses a pinned version the server does not have, and checks output plugins by their slot result', () => {
    const plan = planExtensions(
      [ext('vector', { version: '9.9' }), ext('wal2json')],
      server({ outputPlugins: new Map([['wal2json', 'could not access file "wal2json"']]) }),
      [{ database: 'app', installed: new Map() }],
    );
    expect(plan.missing.map((m) => m.reason)).toEqual([
      expect.stringContaining('vector version 9.9 is not available'),
      expect.stringContaining('could not access file "wal2json"'),
    ]);
  });

  it('quotes names as identifiers and versions as literals', () => {
    expect(extensionActionSql({ kind: 'create', name: 'we"ird', schema: 'my schema', version: "1.0'x" })).toEqual([
      'CREATE SCHEMA IF NOT EXISTS "my schema"',
      `CREATE EXTENSION IF NOT EXISTS "we""ird" SCHEMA "my schema" VERSION '1.0''x' CASCADE`,
    ]);
    expect(extensionActionSql({ kind: 'update', name: 'uuid-ossp', from: '1.0', to: '1.1' })).toEqual([`ALTER EXTENSION "uuid-ossp" UPDATE TO '1.1'`]);
  });
});
