/**
 * Issue 14, item 2: the config's `settings` on a server pgstrap does not run (Debian's PostgreSQL 15, reached by
 * URL). Doctor compares them with the server's, unit-aware, and names for each that differs the statement or the
 * provider setting that would change it for this role; setup says the same in one line, a note and not a failure.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { readPassword } from '../../scripts/server/target.ts';
import { runCli } from '../support/project.ts';
import { startManagedServer, type ManagedServer, type ProviderRole } from '../support/managed-role.ts';

const started = await startManagedServer();
const skip = 'skip' in started ? started.skip : undefined;

interface Doc {
  steps?: Array<{ id: string; status: string; changes: string[]; notes: string[] }>;
  checks?: Array<{ id: string; status: string; message: string; details: string[]; fix: string | null }>;
}

describe.skipIf(skip !== undefined)(`settings on an external PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const server = started as ManagedServer;
  let owner: ProviderRole;
  // work_mem is 4MB on the server (its default): the config's 8MB differs; maintenance_work_mem 65536kB is its 64MB.
  const raw: PgstrapConfig = { postgresMajor: 15, settings: { work_mem: '8MB', maintenance_work_mem: '65536kB', shared_buffers: '256MB', dynamic_library_path: '$libdir' } };
  const cli = async (args: string[], url: string) => {
    const result = await runCli([...args, '--json', '--url', url], { cwd: server.project.dir });
    return { exitCode: result.exitCode, doc: JSON.parse(String(result.stdout)) as Doc, text: `${result.stdout}\n${result.stderr}` };
  };

  beforeAll(async () => {
    owner = await server.makeRole('app_owner', 'app');
    server.project.writeConfigFile(raw);
  });
  afterAll(async () => server?.stop());

  it('doctor reports every setting that differs, with the statement or provider setting that changes it for this role', async () => {
    const { doc } = await cli(['doctor'], owner.url);
    expect(doc.checks!.find((c) => c.id === 'external.settings')).toEqual({
      id: 'external.settings',
      group: 'external',
      status: 'warn',
      message: '3 of 4 settings differ from the config: work_mem, shared_buffers, dynamic_library_path',
      details: [
        `work_mem is 4MB on the server, 8MB in the config: ALTER DATABASE "app" SET work_mem = '8MB' (new sessions)`,
        `shared_buffers is 128MB on the server, 256MB in the config: set shared_buffers = '256MB' in the provider's parameter group / server parameters, then restart the server (role app_owner may not change it)`,
        'dynamic_library_path: the config says $libdir; dynamic_library_path is unknown: role app_owner may not read it (that needs superuser or pg_read_all_settings)',
      ],
      fix: 'Change each as its line says (pgstrap changes no setting of a server it does not run), or change the config',
      fixable: false,
    });
  });

  it('setup says the same in one line, as a note, and changes no setting', async () => {
    const { exitCode, doc, text } = await cli(['setup'], owner.url);
    expect(exitCode, text).toBe(0);
    const settings = doc.steps!.find((s) => s.id === 'settings')!;
    expect(settings).toMatchObject({ status: 'unchanged', changes: [] });
    expect(settings.notes).toEqual([
      expect.stringMatching(/^settings differ from the config on this server \(pgstrap changes no setting of a server it does not run\): work_mem is 4MB on the server, 8MB in the config: ALTER DATABASE "app" SET work_mem = '8MB' \(new sessions\); shared_buffers is 128MB/),
    ]);
    expect(await server.sql('app', "SELECT setting FROM pg_settings WHERE name = 'work_mem'")).toEqual([{ setting: '4096' }]);
  });

  it('the statement doctor names works for the owner, and doctor then finds that setting in effect', async () => {
    const { withClient } = await import('../../scripts/server/connection.ts');
    await withClient({ connectionString: owner.url }, (c) => c.query(`ALTER DATABASE "app" SET work_mem = '8MB'`));
    const { doc } = await cli(['doctor'], owner.url);
    const settings = doc.checks!.find((c) => c.id === 'external.settings')!;
    expect(settings.message).toBe('2 of 4 settings differ from the config: shared_buffers, dynamic_library_path');
  });

  it('as superuser: ALTER SYSTEM for a server setting, and every setting readable', async () => {
    const password = readPassword(server.admin.layout)!;
    const url = owner.url.replace(/\/\/app_owner:[^@]+@/, `//postgres:${password}@`);
    const { doc } = await cli(['doctor'], url);
    const settings = doc.checks!.find((c) => c.id === 'external.settings')!;
    expect(settings.details).toEqual([`shared_buffers is 128MB on the server, 256MB in the config: ALTER SYSTEM SET shared_buffers = '256MB', then restart the server`]);
    expect(doc.checks!.find((c) => c.id === 'external.role')!.message).toBe('role postgres: superuser');
  });
});
