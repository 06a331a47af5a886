/**
 * Issue 14, item 1: a role like the ones managed services hand out (LOGIN, owner of its database, not superuser, no
 * CREATEDB, no pg_read_all_settings) on Debian's PostgreSQL 15, reached by URL. pgstrap reads what the role may
 * read, tells "available" from "creatable" before trying, skips an optional extension it cannot create without
 * taking the others down, names what a required one lacks, and gives uuidv7() and the migrations wherever the
 * role may create them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgstrapConfig } from '../../scripts/config/types.ts';
import { readPassword } from '../../scripts/server/target.ts';
import { runCli } from '../support/project.ts';
import { startManagedServer, type ManagedServer, type ProviderRole } from '../support/managed-role.ts';

const started = await startManagedServer();
const skip = 'skip' in started ? started.skip : undefined;

interface Doc {
  ok: boolean;
  error?: { code: string; message: string; details: string[]; remedy: string };
  steps?: Array<{ id: string; status: string; changes: string[]; notes: string[] }>;
  checks?: Array<{ id: string; status: string; message: string; details: string[]; fix: string | null }>;
}

describe.skipIf(skip !== undefined)(`a non-superuser role on PostgreSQL 15${skip ? ` (skipped: ${skip})` : ''}`, () => {
  const server = started as ManagedServer;
  let owner: ProviderRole;
  const cli = async (args: string[], url: string, raw: PgstrapConfig) => {
    server.project.writeConfigFile({ postgresMajor: 15, ...raw });
    const result = await runCli([...args, '--json', '--url', url], { cwd: server.project.dir });
    return { exitCode: result.exitCode, doc: JSON.parse(String(result.stdout)) as Doc, text: `${result.stdout}\n${result.stderr}` };
  };
  const extensions = async (database: string) => (await server.sql<{ extname: string }>(database, "SELECT extname FROM pg_extension WHERE extname <> 'plpgsql' ORDER BY 1")).map((r) => r.extname);
  const step = (doc: Doc, id: string) => doc.steps!.find((s) => s.id === id)!;
  const checkOf = (doc: Doc, id: string) => doc.checks!.find((c) => c.id === id);

  beforeAll(async () => {
    owner = await server.makeRole('app_owner', 'app');
    fs.mkdirSync(path.join(server.project.dir, 'migrations'));
    fs.writeFileSync(path.join(server.project.dir, 'migrations', '20250101000000_create_items.sql'), 'CREATE TABLE items (id uuid PRIMARY KEY DEFAULT uuidv7(), name text);\n');
  });
  afterAll(async () => server?.stop());

  it('doctor reaches the server, says what the role may do, and calls an unreadable setting unknown', async () => {
    const { doc } = await cli(['doctor'], owner.url, { extensions: ['pgcrypto', { name: 'pg_stat_statements', required: false }] });
    expect(JSON.stringify(doc)).not.toContain('cannot reach');
    expect(checkOf(doc, 'external.reachable')).toMatchObject({ status: 'ok' });
    expect(checkOf(doc, 'external.role')!.message).toBe(
      'role app_owner: not superuser; CREATE on app: may create trusted extensions only; may not read superuser-only settings such as shared_preload_libraries (no pg_read_all_settings)',
    );
    expect(checkOf(doc, 'external.preload')).toMatchObject({ status: 'warn', message: expect.stringMatching(/^shared_preload_libraries is unknown: role app_owner may not read it/) });
    // Available and trusted: setup can create it. Available but untrusted: it cannot, and doctor says why before setup tries.
    expect(checkOf(doc, 'db.app.extension.pgcrypto')).toMatchObject({ status: 'fail', message: 'pgcrypto is available but not installed', fix: 'npm run setup' });
    expect(checkOf(doc, 'db.app.extension.pg_stat_statements')).toMatchObject({
      status: 'warn',
      message: expect.stringContaining('role app_owner (not superuser, not a member of rds_superuser, azure_pg_admin, cloudsqlsuperuser) may create only trusted extensions, and pg_stat_statements is not one'),
      fix: expect.stringMatching(/^pg_stat_statements is not trusted: ask for it through the provider's extension setting/),
    });
  });

  it('a required extension the role may not create stops setup before any change, naming what is missing', async () => {
    const { exitCode, doc } = await cli(['setup'], owner.url, { extensions: ['pgcrypto', 'pg_stat_statements'] });
    expect(exitCode).toBe(3);
    expect(doc.error).toMatchObject({
      code: 'extension.not-permitted',
      message: expect.stringMatching(/^required extension pg_stat_statements cannot be created by role app_owner on external server 127\.0\.0\.1:\d+\/app .*may create only trusted extensions/),
      remedy: expect.stringContaining('pg_stat_statements is not trusted: ask for it through the provider\'s extension setting (its allow-list or extension page), or run setup as a role with CREATE privilege and superuser/rds_superuser'),
    });
    expect(await extensions('app')).toEqual([]);
    expect(await server.sql('app', "SELECT 1 FROM pg_proc WHERE proname = 'uuidv7'")).toEqual([]);
  });

  it('an optional one is a warning: the trusted extension, uuidv7() and the migrations land, and a second run changes nothing', async () => {
    const raw: PgstrapConfig = { extensions: ['pgcrypto', { name: 'pg_stat_statements', required: false }] };
    const { exitCode, doc, text } = await cli(['setup'], owner.url, raw);
    expect(exitCode, text).toBe(0);
    expect(step(doc, 'extensions')).toMatchObject({ status: 'warning', changes: ['app: created extension pgcrypto'] });
    expect(step(doc, 'extensions').notes).toEqual([expect.stringMatching(/^optional extension pg_stat_statements skipped in app: role app_owner .*To get it: pg_stat_statements is not trusted/)]);
    expect(step(doc, 'uuidv7').changes).toEqual([expect.stringMatching(/^app: created public\.uuidv7\(\), pgstrap's SQL fallback/), 'app: recorded strategy fallback']);
    expect(step(doc, 'migrations').changes).toEqual([expect.stringMatching(/^applied 20250101000000_create_items\.sql to app/)]);
    expect(step(doc, 'verify')).toMatchObject({ status: 'unchanged' });
    expect(await extensions('app')).toEqual(['pgcrypto']);
    expect(await server.sql('app', 'SELECT tableowner FROM pg_tables WHERE tablename = $1', ['items'])).toEqual([{ tableowner: 'app_owner' }]);
    const again = await cli(['setup'], owner.url, raw);
    expect(again.doc.steps!.flatMap((s) => s.changes)).toEqual([]);
  });

  it("a provider's extension-admin role counts as superuser; when the server still refuses, only that extension rolls back", async () => {
    await server.sql('postgres', 'CREATE ROLE rds_superuser NOLOGIN');
    const admin = await server.makeRole('rds_app', 'rdsdb', []);
    await server.sql('postgres', 'GRANT rds_superuser TO rds_app');
    const doctor = await cli(['doctor'], admin.url, {});
    expect(checkOf(doctor.doc, 'external.role')!.message).toBe(
      "role rds_app: not superuser, member of rds_superuser (a provider's extension-admin role: treated as superuser for CREATE EXTENSION)",
    );
    // The plan lets it try (on RDS it would work); this server refuses, and the transaction of required ones goes back whole.
    const required = await cli(['setup'], admin.url, { extensions: ['pgcrypto', 'pg_stat_statements'] });
    expect(required.exitCode).toBe(5);
    expect(required.doc.error).toMatchObject({
      code: 'extension.failed',
      message: expect.stringContaining('permission denied to create extension "pg_stat_statements"'),
      remedy: expect.stringMatching(/^That needs a role with CREATE privilege on the database and, for an untrusted extension, superuser or the provider's extension-admin role .*; role rds_app has not\./),
    });
    expect(await extensions('rdsdb')).toEqual([]);
    // Optional: a savepoint of its own, so pgcrypto stays.
    const optional = await cli(['setup'], admin.url, { extensions: ['pgcrypto', { name: 'pg_stat_statements', required: false }] });
    expect(optional.exitCode, optional.text).toBe(0);
    expect(step(optional.doc, 'extensions')).toMatchObject({ status: 'warning', changes: ['rdsdb: created extension pgcrypto'] });
    expect(step(optional.doc, 'extensions').notes).toEqual([
      expect.stringMatching(/^optional extension pg_stat_statements skipped in rdsdb: the server refused it: permission denied to create extension "pg_stat_statements"\. pg_stat_statements needs a role/),
      expect.stringMatching(/^rdsdb: pg_stat_statements is not trusted; role rds_app is a member of rds_superuser/),
      'pg_stat_statements needs shared_preload_libraries set on the server; shared_preload_libraries is unknown: role rds_app may not read it (that needs superuser or pg_read_all_settings), so pgstrap cannot check it',
    ]);
    expect(await extensions('rdsdb')).toEqual(['pgcrypto']);
  });

  it('a role that may not create in schema public is told which privilege on which schema, before anything is tried', async () => {
    await server.sql('postgres', 'CREATE DATABASE plain');
    const user = await server.makeRole('app_user', 'app_user_db');
    await server.sql('postgres', 'GRANT CONNECT ON DATABASE plain TO app_user');
    const url = user.url.replace(/\/app_user_db$/, '/plain');
    const { exitCode, doc } = await cli(['setup'], url, {});
    expect(exitCode).toBe(5);
    expect(doc.error).toMatchObject({
      code: 'uuidv7.not-permitted',
      message: 'plain: cannot provide uuidv7() (fallback): the role lacks CREATE privilege on schema public in plain, and CREATE privilege on database plain (for schema pgstrap)',
      remedy: 'As the database\'s owner: GRANT CREATE ON SCHEMA "public" TO "app_user"; GRANT CREATE ON DATABASE "plain" TO "app_user", or CREATE SCHEMA "pgstrap" AUTHORIZATION "app_user". Then run `npm run setup` again.',
    });
    expect(await server.sql('plain', "SELECT 1 FROM pg_proc WHERE proname = 'uuidv7'")).toEqual([]);
    // Given what the message names, the same command works.
    await server.sql('plain', 'GRANT CREATE ON SCHEMA public TO app_user');
    await server.sql('postgres', 'GRANT CREATE ON DATABASE plain TO app_user');
    const granted = await cli(['setup'], url, {});
    expect(granted.exitCode, granted.text).toBe(0);
    expect(step(granted.doc, 'migrations').changes).toEqual([expect.stringMatching(/^applied 20250101000000_create_items\.sql to plain/)]);
  });

  it("uuidv7() and migrations another role set up: each error names the schema and the privilege", async () => {
    // uuidv7() made by someone else (the database's owner ran setup without migrations); this role may create in public only.
    const user = await server.makeRole('mig_user', 'mig_user_db');
    await server.sql('postgres', 'CREATE DATABASE plain2');
    await server.sql('postgres', 'GRANT CONNECT ON DATABASE plain2 TO mig_user');
    const password = readPassword(server.admin.layout)!;
    const adminUrl = `postgresql://postgres:${password}@127.0.0.1:${server.project.config.port}/plain2`;
    expect((await cli(['setup'], adminUrl, { migrations: { builtIn: false } })).exitCode).toBe(0);
    const url = user.url.replace(/\/mig_user_db$/, '/plain2');
    // pgstrap's record belongs to the role that made it: this one may not read it, and is told what to grant.
    const denied = await cli(['setup'], url, {});
    expect(denied.doc.error).toMatchObject({
      code: 'uuidv7.not-permitted',
      message: "plain2: cannot provide uuidv7() (fallback): the role lacks access to pgstrap's strategy record pgstrap.uuidv7_strategy (permission denied for schema pgstrap)",
      remedy: 'As the database\'s owner: GRANT USAGE ON SCHEMA "pgstrap" TO "mig_user"; GRANT SELECT, INSERT, UPDATE ON "pgstrap"."uuidv7_strategy" TO "mig_user" (or run setup as the role that made it). Then run `npm run setup` again.',
    });
    await server.sql('plain2', 'GRANT USAGE ON SCHEMA pgstrap TO mig_user; GRANT SELECT ON pgstrap.uuidv7_strategy TO mig_user');
    const { exitCode, doc, text } = await cli(['setup'], url, {});
    expect(exitCode, text).toBe(5);
    expect(doc.error).toMatchObject({
      code: 'migrate.tracking-table',
      message: 'database plain2: cannot create or read the tracking table pgstrap_migrations.history: permission denied for database plain2',
      remedy: expect.stringContaining('CREATE privilege on database plain2: GRANT CREATE ON DATABASE "plain2" TO <role>'),
    });
  });
});
