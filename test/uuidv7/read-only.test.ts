/**
 * Issue 14, item 5 (read-only half): a server that takes no writes from the role (ALTER ROLE ... SET
 * default_transaction_read_only = on, as a replica or a read-only production role would be). doctor, verify and
 * migrate:status work read-only and say what they skipped; setup and migrate stop before changing anything, with
 * the cause. The server's log proves that nothing tried to write.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/project.ts';
import { startManagedServer, type ManagedServer, type ProviderRole } from '../support/managed-role.ts';

const started = await startManagedServer();
const skip = 'skip' in started ? started.skip : undefined;

interface Doc {
  ok: boolean;
  error?: { code: string; message: string; remedy: string };
  steps?: Array<{ id: string; status: string; changes: string[]; notes: string[] }>;
  checks?: Array<{ id: string; status: string; message: string; details: string[]; fix: string | null }>;
  databases?: Array<{ database: string; applied: unknown[]; pending: Array<{ version: string }> }>;
}

describe.skipIf(skip !== undefined)(`a read-only role on PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const server = started as ManagedServer;
  let owner: ProviderRole;
  const migrations = () => path.join(server.project.dir, 'migrations');
  const cli = async (args: string[]) => {
    const result = await runCli([...args, '--json', '--url', owner.url], { cwd: server.project.dir });
    return { exitCode: result.exitCode, doc: JSON.parse(String(result.stdout)) as Doc, text: `${result.stdout}\n${result.stderr}` };
  };
  /** Lines of the server's log that a refused write leaves (ERROR: cannot execute ... in a read-only transaction). */
  const refusedWrites = () => fs.readFileSync(server.admin.layout.logFile, 'utf8').split('\n').filter((l) => l.includes('read-only transaction'));
  const historyRows = async () => (await server.sql<{ n: number }>('app', 'SELECT count(*)::int AS n FROM pgstrap_migrations.history'))[0]!.n;

  beforeAll(async () => {
    owner = await server.makeRole('app_owner', 'app');
    server.project.writeConfigFile({ postgresMajor: 15, extensions: ['pgcrypto'] });
    fs.mkdirSync(migrations());
    fs.writeFileSync(path.join(migrations(), '20250101000000_create_items.sql'), 'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT uuidv7());\n');
    const setup = await cli(['setup']);
    expect(setup.exitCode, setup.text).toBe(0);
    // A file added after: pending on the read-only server.
    fs.writeFileSync(path.join(migrations(), '20250102000000_add_name.sql'), 'ALTER TABLE items ADD COLUMN name text;\n');
    await server.sql('postgres', 'ALTER ROLE app_owner SET default_transaction_read_only = on');
  });
  afterAll(async () => server?.stop());

  it('doctor works read-only and says that the server is read-only for this role', async () => {
    const { doc } = await cli(['doctor']);
    expect(doc.checks!.find((c) => c.id === 'external.writable')).toMatchObject({
      status: 'warn',
      message: 'read-only: transactions of role app_owner are read-only (default_transaction_read_only = on, for the role, its database or the server)',
      details: ['setup and migrate refuse to run here before changing anything; doctor, verify and migrate:status work read-only'],
    });
    expect(doc.checks!.find((c) => c.id === 'db.app.uuidv7')).toMatchObject({ status: 'ok' });
    expect(doc.checks!.filter((c) => c.status === 'fail')).toEqual([]);
    // The pending migration is reported, but not offered to --fix, which could not apply it here.
    expect(doc.checks!.find((c) => c.id === 'db.app.migrations')).toMatchObject({ status: 'warn', fixable: false });
    expect(refusedWrites()).toEqual([]);
  });

  it('verify checks ids from a SELECT and says what it skipped', async () => {
    const { exitCode, doc, text } = await cli(['verify']);
    expect(exitCode, text).toBe(0);
    expect(doc.steps![0]!.notes).toEqual([
      expect.stringMatching(/^app: uuidv7\(\) strategy fallback \(random bits from gen_random_uuid\(\)\); 10000 ids: version 7, RFC variant, unique/),
      'app: read-only (transaction_read_only is on): checked ids from a SELECT only; skipped the key-default tables (temporary tables are writes)',
    ]);
    expect(refusedWrites()).toEqual([]);
  });

  it('migrate:status reads the history and names the pending file', async () => {
    const { exitCode, doc } = await cli(['migrate:status']);
    expect(exitCode).toBe(6);
    expect(doc.databases).toEqual([expect.objectContaining({ database: 'app', applied: [expect.anything()], pending: [expect.objectContaining({ version: '20250102000000' })] })]);
    expect(refusedWrites()).toEqual([]);
  });

  it('setup and migrate stop before changing anything, with the cause', async () => {
    for (const verb of ['setup', 'migrate']) {
      const { exitCode, doc } = await cli([verb]);
      expect(exitCode).toBe(5);
      expect(doc.error).toMatchObject({
        code: 'server.read-only',
        message: `${verb} changes the server, but external server 127.0.0.1:${server.project.config.port}/app is read-only here: transactions of role app_owner are read-only (default_transaction_read_only = on, for the role, its database or the server); nothing was changed`,
        remedy: `Run ${verb} with a role that may write (or ALTER ROLE app_owner SET default_transaction_read_only = off). doctor, verify and migrate:status work read-only.`,
      });
    }
    // doctor --fix offers no repair here, so it changes nothing.
    const fix = await cli(['doctor', '--fix']);
    expect((fix.doc as { fixed?: unknown }).fixed).toBeUndefined();
    expect(await historyRows()).toBe(1);
    expect(refusedWrites()).toEqual([]);
    // migrate --dry-run only reads: it still works.
    expect((await cli(['migrate', '--dry-run'])).exitCode).toBe(0);
    expect(refusedWrites()).toEqual([]);
  });

  it('the log check above sees a write the server refused (so its silence means something)', async () => {
    const { withClient } = await import('../../scripts/server/connection.ts');
    await expect(withClient({ connectionString: owner.url }, (c) => c.query('CREATE TABLE t (n int)'))).rejects.toThrow('read-only transaction');
    // The server may write its log line after it answers: wait for it (up to 10 s).
    for (let i = 0; i < 200 && refusedWrites().length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(refusedWrites()).toEqual([expect.stringContaining('cannot execute CREATE TABLE in a read-only transaction')]);
  });

  it('a hot standby: doctor, verify and migrate:status work there, setup is refused with the way to the primary', { timeout: 180_000 }, async () => {
    const standby = await server.startStandby();
    try {
      const url = owner.url.replace(`:${server.project.config.port}/`, `:${standby.port}/`);
      const cli2 = async (args: string[]) => {
        const result = await runCli([...args, '--json', '--url', url], { cwd: server.project.dir });
        return { exitCode: result.exitCode, doc: JSON.parse(String(result.stdout)) as Doc, text: `${result.stdout}\n${result.stderr}` };
      };
      const doctor = await cli2(['doctor']);
      expect(doctor.doc.checks!.find((c) => c.id === 'external.writable')).toMatchObject({
        status: 'warn',
        message: 'read-only: the server is a standby in recovery (pg_is_in_recovery()): it takes no writes',
        fix: 'Point setup and migrate at the primary',
      });
      expect(doctor.doc.checks!.filter((c) => c.status === 'fail')).toEqual([]);
      const verify = await cli2(['verify']);
      expect(verify.exitCode, verify.text).toBe(0);
      expect((await cli2(['migrate:status'])).exitCode).toBe(6);
      const setup = await cli2(['setup']);
      expect(setup.exitCode).toBe(5);
      expect(setup.doc.error).toMatchObject({
        code: 'server.read-only',
        message: expect.stringContaining('the server is a standby in recovery'),
        remedy: 'Point setup at the primary (--url). doctor, verify and migrate:status work read-only on a standby.',
      });
    } finally {
      await standby.stop();
    }
  });
});
