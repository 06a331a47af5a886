/** What a role may do, judged from facts (scripts/server/privileges.ts), and the planner and settings drift built on it: pure, no server. */
import { describe, expect, it } from 'vitest';
import type { ResolvedExtension } from '../../scripts/config/types.ts';
import { planExtensions, type ServerExtensionFacts } from '../../scripts/extensions/plan.ts';
import { checkCreateExtension, describeReadOnly, missingCreateRights, settingChangeWay, superuserFacts, type RoleFacts } from '../../scripts/server/privileges.ts';
import { describeSettingValue, planSettingDrift } from '../../scripts/server/setting-values.ts';

const owner: RoleFacts = { role: 'app_owner', superuser: false, providerAdmin: [], readAllSettings: false, createOn: ['app'], owns: ['app'], readOnly: false, inRecovery: false };

function ext(name: string, fields: Partial<ResolvedExtension> = {}): ResolvedExtension {
  return { name, required: true, databases: ['app'], schema: undefined, version: undefined, ...fields };
}

function external(fields: Partial<ServerExtensionFacts> = {}): ServerExtensionFacts {
  return {
    kind: 'external',
    label: 'external server db.example.com/app (PostgreSQL 16.4)',
    major: 16,
    available: new Map([['pgcrypto', '1.3'], ['pg_stat_statements', '1.10']]),
    versions: new Map(),
    settings: {},
    outputPlugins: new Map(),
    trusted: new Map([['pgcrypto', true], ['pg_stat_statements', false]]),
    role: owner,
    ...fields,
  };
}

describe('CREATE EXTENSION rights', () => {
  it('superuser and provider admin roles may create any; others a trusted one with CREATE on the database', () => {
    expect(checkCreateExtension(superuserFacts('postgres'), 'pg_stat_statements', false, 'app')).toEqual({ ok: true, via: 'superuser' });
    expect(checkCreateExtension({ ...owner, providerAdmin: ['rds_superuser'] }, 'pg_stat_statements', false, 'app')).toEqual({
      ok: true,
      via: "member of rds_superuser (a provider's extension-admin role, treated as superuser for CREATE EXTENSION)",
    });
    expect(checkCreateExtension(owner, 'pgcrypto', true, 'app')).toEqual({ ok: true, via: 'trusted extension, CREATE on database app' });
    expect(checkCreateExtension(owner, 'pg_stat_statements', false, 'app')).toEqual({
      ok: false,
      reason: 'role app_owner (not superuser, not a member of rds_superuser, azure_pg_admin, cloudsqlsuperuser) may create only trusted extensions, and pg_stat_statements is not one',
      fix:
        "pg_stat_statements is not trusted: ask for it through the provider's extension setting (its allow-list or extension page), " +
        'or run setup as a role with CREATE privilege and superuser/rds_superuser (azure_pg_admin, cloudsqlsuperuser).',
    });
    expect(checkCreateExtension({ ...owner, createOn: [] }, 'pgcrypto', true, 'app')).toMatchObject({
      ok: false,
      reason: 'pgcrypto is trusted, but role app_owner (not superuser, not a member of rds_superuser, azure_pg_admin, cloudsqlsuperuser) has no CREATE privilege on database app',
      fix: 'GRANT CREATE ON DATABASE "app" TO "app_owner" (as the database\'s owner), or run setup as the database\'s owner.',
    });
    // Not read (an old server, a failed read): the server judges.
    expect(checkCreateExtension(owner, 'x', undefined, 'app').ok).toBe(true);
  });

  it('the planner skips an optional extension the role may not create, and refuses a required one as a privilege', () => {
    const preloaded = external({ settings: { shared_preload_libraries: 'pg_stat_statements' } });
    const plan = planExtensions([ext('pgcrypto'), ext('pg_stat_statements', { required: false })], preloaded, [{ database: 'app', installed: new Map() }]);
    expect(plan.databases).toEqual([{ database: 'app', actions: [{ kind: 'create', name: 'pgcrypto', schema: undefined, version: undefined }] }]);
    expect(plan.missing).toEqual([expect.objectContaining({ name: 'pg_stat_statements', required: false, cause: 'privilege' })]);
    // Installed already: nothing to create, nothing to refuse.
    const installed = planExtensions([ext('pg_stat_statements')], external(), [{ database: 'app', installed: new Map([['pg_stat_statements', { version: '1.10', schema: 'public' }]]) }]);
    expect(installed.missing).toEqual([]);
  });

  it('an unreadable shared_preload_libraries is unknown, not empty: a note, never a refusal', () => {
    const server = external({ role: superuserFacts('x'), settings: { shared_preload_libraries: undefined }, unreadable: new Set(['shared_preload_libraries']) });
    const plan = planExtensions([ext('pg_stat_statements')], { ...server, role: { ...owner, providerAdmin: ['azure_pg_admin'] } }, [{ database: 'app', installed: new Map() }]);
    expect(plan.missing).toEqual([]);
    expect(plan.notes).toContain(
      'pg_stat_statements needs shared_preload_libraries set on the server; shared_preload_libraries is unknown: role app_owner may not read it (that needs superuser or pg_read_all_settings), so pgstrap cannot check it',
    );
    // Readable and empty: the refusal it always was.
    const readable = planExtensions([ext('pg_stat_statements')], external({ role: superuserFacts('x'), settings: { shared_preload_libraries: '' } }), [{ database: 'app', installed: new Map() }]);
    expect(readable.missing[0]!.reason).toMatch(/^pg_stat_statements must be in shared_preload_libraries/);
  });
});

describe('schema and database rights for uuidv7()', () => {
  it('names each privilege missing with the GRANT that gives it', () => {
    const rights = { role: 'app_user', database: 'app', schema: 'public', onSchema: false, onDatabase: false };
    expect(missingCreateRights(rights, { functions: true, newSchema: 'pgstrap' })).toEqual([
      { lacks: 'CREATE privilege on schema public in app', grant: 'GRANT CREATE ON SCHEMA "public" TO "app_user"' },
      { lacks: 'CREATE privilege on database app (for schema pgstrap)', grant: 'GRANT CREATE ON DATABASE "app" TO "app_user", or CREATE SCHEMA "pgstrap" AUTHORIZATION "app_user"' },
    ]);
    expect(missingCreateRights({ ...rights, onSchema: true }, { functions: true, newSchema: undefined })).toEqual([]);
    expect(missingCreateRights({ ...rights, onSchema: undefined }, { functions: true, newSchema: undefined })[0]!.lacks).toBe('schema public does not exist in app');
  });
});

describe('read-only servers', () => {
  it('says why a server takes no writes', () => {
    expect(describeReadOnly(owner)).toBeUndefined();
    expect(describeReadOnly({ ...owner, readOnly: true })).toMatch(/^transactions of role app_owner are read-only/);
    expect(describeReadOnly({ ...owner, readOnly: true, inRecovery: true })).toMatch(/^the server is a standby in recovery/);
  });
});

describe('settings on a server pgstrap does not run', () => {
  it('names the statement the role may run, or the provider setting', () => {
    expect(settingChangeWay(owner, 'work_mem', '8MB', 'user', ['app']).how).toBe(`ALTER DATABASE "app" SET work_mem = '8MB' (new sessions)`);
    // Not the owner of every database: only the provider (or a superuser) can.
    expect(settingChangeWay(owner, 'work_mem', '8MB', 'user', ['app', 'other']).statement).toBeUndefined();
    expect(settingChangeWay(owner, 'log_min_duration_statement', '1s', 'superuser', ['app']).how).toMatch(/provider's parameter group/);
    expect(settingChangeWay(superuserFacts('postgres'), 'log_min_duration_statement', '1s', 'superuser', ['app']).statement).toBe(`ALTER DATABASE "app" SET log_min_duration_statement = '1s'`);
    expect(settingChangeWay(superuserFacts('postgres'), 'max_connections', '200', 'postmaster', ['app']).how).toBe(`ALTER SYSTEM SET max_connections = '200', then restart the server`);
    expect(settingChangeWay(superuserFacts('postgres'), 'checkpoint_timeout', '10min', 'sighup', ['app']).how).toBe(`ALTER SYSTEM SET checkpoint_timeout = '10min', then SELECT pg_reload_conf()`);
  });

  it('compares with units, and calls a hidden setting unknown', () => {
    const row = (name: string, setting: string, unit: string | undefined, context = 'user') => ({ name, setting, unit, vartype: 'integer', pendingRestart: false, context });
    expect(describeSettingValue(row('work_mem', '4096', 'kB'))).toBe('4MB');
    expect(describeSettingValue(row('shared_buffers', '16384', '8kB'))).toBe('128MB');
    expect(describeSettingValue(row('statement_timeout', '90000', 'ms'))).toBe('90s');
    const drifts = planSettingDrift(
      { work_mem: '4MB', maintenance_work_mem: '128MB', data_directory: '/x', 'foo.bar': '1' },
      [row('work_mem', '4096', 'kB'), row('maintenance_work_mem', '65536', 'kB'), { name: 'data_directory', setting: undefined, unit: undefined, vartype: undefined, pendingRestart: false, hidden: true }],
      owner,
      ['app'],
    );
    expect(drifts.map((d) => d.message)).toEqual([
      `maintenance_work_mem is 64MB on the server, 128MB in the config: ALTER DATABASE "app" SET maintenance_work_mem = '128MB' (new sessions)`,
      'data_directory: the config says /x; data_directory is unknown: role app_owner may not read it (that needs superuser or pg_read_all_settings)',
      'foo.bar: the config says 1, but the server does not know this setting (its library is not loaded)',
    ]);
  });
});
