/**
 * PgBouncer (Debian's, 1.18) in front of Debian's PostgreSQL 15 on 127.0.0.1. In transaction pooling the
 * migration lock (a session advisory lock) does not hold: pgstrap detects it and refuses the migrations
 * with the fix (a direct URL), applies them through the direct URL when the target has one, and runs
 * setup, verify, doctor and migrate:status through the pooler. Session pooling keeps the lock and works.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeUnpinnedSessions } from '../../scripts/server/pooling.ts';
import { withClient } from '../../scripts/server/connection.ts';
import { makeProject, runCli, type TestProject } from '../support/project.ts';
import { serversMissing, startPgbouncer, startServer, type RunningServer } from '../support/servers.ts';

describe('judging backend pids (pure)', () => {
  it('calls sessions unpinned when two share a backend or one moves, and pinned otherwise', () => {
    expect(describeUnpinnedSessions({ first: 10, other: 11, again: 10 })).toBeUndefined();
    expect(describeUnpinnedSessions({ first: 10, other: 10, again: 10 })).toBe('two open sessions ran on the same server backend (pid 10)');
    expect(describeUnpinnedSessions({ first: 10, other: 11, again: 12 })).toBe('one session moved from server backend pid 10 to pid 12 between two statements');
  });
});

const missing = serversMissing({ pgbouncer: true });

describe.skipIf(missing !== undefined)(`through PgBouncer${missing ? ` (skipped: ${missing})` : ''}`, () => {
  let server: RunningServer;
  let transaction: RunningServer;
  let session: RunningServer;
  let project: TestProject;
  const raw = {
    databases: ['app'],
    extensions: ['pgcrypto'],
    targets: {
      pooled: { url: { env: 'POOLED_URL' } },
      split: { url: { env: 'POOLED_URL' }, directUrl: { env: 'DIRECT_URL' } },
      session: { url: { env: 'SESSION_URL' } },
    },
  };

  beforeAll(async () => {
    server = await startServer();
    transaction = await startPgbouncer(server, 'transaction');
    session = await startPgbouncer(server, 'session');
    project = await makeProject(raw);
    project.writeConfigFile(raw);
    fs.mkdirSync(path.join(project.dir, 'migrations'));
    fs.writeFileSync(path.join(project.dir, 'migrations/20250101000000_items.sql'), 'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT uuidv7(), note text);\n');
  }, 120_000);
  afterAll(async () => {
    await project?.remove();
    await transaction?.stop();
    await session?.stop();
    await server?.stop();
  });

  const env = () => ({ POOLED_URL: transaction.url(), DIRECT_URL: server.url(), SESSION_URL: session.url() });
  const cli = (args: string[], extra: Record<string, string | undefined> = {}) => runCli(args, { cwd: project.dir, env: { ...env(), ...extra } });
  const history = () => withClient({ connectionString: server.url({ database: 'app' }) }, async (c) => (await c.query("SELECT to_regclass('pgstrap_migrations.history')::text AS t")).rows[0]!.t);

  it('shows the hazard: in transaction pooling two clients both get the session advisory lock', async () => {
    const take = 'SELECT pg_try_advisory_lock(1, 2) AS ok';
    const both = await withClient({ connectionString: transaction.url({ database: 'postgres' }) }, (a) =>
      withClient({ connectionString: transaction.url({ database: 'postgres' }) }, async (b) => [(await a.query(take)).rows[0]!.ok, (await b.query(take)).rows[0]!.ok]),
    );
    expect(both).toEqual([true, true]);
    await withClient({ connectionString: transaction.url({ database: 'postgres' }) }, (c) => c.query('SELECT pg_advisory_unlock_all()'));
  });

  it('refuses the migrations through transaction pooling with the fix, after the other steps did their work', async () => {
    const result = await cli(['setup', '--target', 'pooled']);
    expect(result.exitCode, result.stdout + result.stderr).toBe(3);
    expect(result.stderr).toContain('goes through a connection pooler that does not keep a session on one server connection');
    expect(result.stderr).toContain('two open sessions ran on the same server backend');
    expect(result.stderr).toContain("directUrl: { env: 'DIRECT_DATABASE_URL' }");
    expect(result.stdout + result.stderr).not.toContain(server.password);
    // Nothing of the migrations was applied; the lock is not left behind on a pooled server connection.
    expect(await history()).toBeNull();
    const locks = await withClient({ connectionString: server.url({ database: 'app' }) }, async (c) => (await c.query("SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'")).rows[0]!.n);
    expect(locks).toBe(0);
    const migrate = await cli(['migrate', '--url', transaction.url()]);
    expect(migrate.exitCode).toBe(3);
    expect(migrate.stderr).toContain('--direct-url URL');
    // doctor warns before a migration fails; a direct connection and session pooling get no such line.
    const doctor = await cli(['doctor', '--target', 'pooled']);
    expect(doctor.stdout).toMatch(/! a pooler that does not pin sessions \(PgBouncer in transaction mode\): two open sessions ran on the same server backend \(pid \d+\); migrate would refuse here/);
    for (const url of [server.url(), session.url()]) expect((await cli(['doctor', '--url', url])).stdout).not.toContain('pooler');
    expect((await cli(['doctor', '--target', 'split'])).stdout).toContain('migrations use the direct URL (directUrl)');
  }, 240_000);

  it('applies them through the direct URL, and runs setup, verify, doctor and migrate:status through the pooler', async () => {
    const setup = await cli(['setup', '--target', 'split']);
    expect({ code: setup.exitCode, out: setup.exitCode === 0 ? '' : setup.stdout + setup.stderr }).toEqual({ code: 0, out: '' });
    expect(setup.stdout).toContain('applied 20250101000000_items.sql to app');
    expect(await history()).toBe('pgstrap_migrations.history');
    for (const command of ['setup', 'verify', 'doctor', 'migrate:status']) {
      const result = await cli([command, '--target', 'pooled']);
      expect({ command, code: result.exitCode, out: result.exitCode === 0 ? '' : result.stdout + result.stderr }).toEqual({ command, code: 0, out: '' });
    }
    // --direct-url beside --url does the same.
    fs.writeFileSync(path.join(project.dir, 'migrations/20250102000000_more.sql'), 'ALTER TABLE items ADD COLUMN created timestamptz;\n');
    const migrate = await cli(['migrate', '--url', transaction.url(), '--direct-url', server.url()]);
    expect({ code: migrate.exitCode, out: migrate.stdout + migrate.stderr }).toMatchObject({ code: 0, out: expect.stringContaining('applied 20250102000000_more.sql') });
  }, 240_000);

  it('migrates through session pooling, where the lock holds; migrate:down takes the same care', async () => {
    fs.writeFileSync(path.join(project.dir, 'migrations/20250103000000_third.sql'), 'CREATE TABLE third (id int);\n\n-- pgstrap:down\nDROP TABLE third;\n');
    const migrate = await cli(['migrate', '--target', 'session']);
    expect({ code: migrate.exitCode, out: migrate.stdout + migrate.stderr }).toMatchObject({ code: 0, out: expect.stringContaining('applied 20250103000000_third.sql') });
    const pooled = await cli(['migrate:down', '--target', 'pooled']);
    expect(pooled.exitCode, pooled.stdout + pooled.stderr).toBe(3);
    expect(pooled.stderr).toContain('migrate.pooled-connection');
    const split = await cli(['migrate:down', '--target', 'split']);
    expect({ code: split.exitCode, out: split.stdout + split.stderr }).toMatchObject({ code: 0, out: expect.stringContaining('reverted 20250103000000_third.sql') });
  }, 120_000);
});
