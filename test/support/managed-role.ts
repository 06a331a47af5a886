/**
 * A server as managed services hand it out: Debian's PostgreSQL 15 (a project-local cluster the test starts as
 * the `postgres` user on a free port) and roles like the ones RDS, Cloud SQL or Azure give an app: LOGIN, owner
 * of its database, not superuser, no CREATEDB, no pg_read_all_settings. The test reaches it by URL, as an
 * external target; the cluster's own superuser (over the socket) sets the scene and looks at the result.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initialiseStep, settingsStep, startStep } from '../../scripts/cluster/step.ts';
import type { PgstrapConfig, ResolvedConfig } from '../../scripts/config/types.ts';
import { resolveConfig } from '../../scripts/config/validate.ts';
import { quoteIdent, quoteLiteral } from '../../scripts/shared/identifiers.ts';
import { rememberSecret } from '../../scripts/shared/secrets.ts';
import { selectTarget } from '../../scripts/server/select.ts';
import { run } from '../../scripts/server/process.ts';
import { connectionFor, type ManagedTarget, type Target } from '../../scripts/server/target.ts';
import { debianPostgres, freePort, makeProject, managedTarget, query, runStepsQuietly, testEnv, type TestProject } from './project.ts';

/** A role the test made, and the URL that reaches its database with it. */
export interface ProviderRole {
  name: string;
  database: string;
  url: string;
}

/** The PostgreSQL 15 server and what the test does with it. */
export interface ManagedServer {
  project: TestProject;
  /** The cluster, for its superuser (socket, trust). */
  admin: ManagedTarget;
  /** Runs SQL as the superuser in `database`. */
  sql<R extends Record<string, unknown> = Record<string, unknown>>(database: string, text: string, params?: unknown[]): Promise<R[]>;
  /**
   * A LOGIN role owning a new database `database`: not superuser, no CREATEDB, no CREATEROLE, no
   * pg_read_all_settings. `setup` runs as the superuser afterwards (grant a provider role, make it read-only).
   */
  makeRole(name: string, database: string, setup?: string[]): Promise<ProviderRole>;
  /** Resolves `raw` as the loader would and selects the external target `url` names. */
  external(raw: PgstrapConfig, url: string): Promise<{ config: ResolvedConfig; target: Target }>;
  /** A hot standby of this server (pg_basebackup -R) on a port of its own: read-only whatever the role. */
  startStandby(): Promise<{ port: number; stop(): Promise<void> }>;
  stop(): Promise<void>;
}

/** Starts Debian's PostgreSQL 15 for a test, or says why it cannot (so the test can say it skipped). */
export async function startManagedServer(settings: Record<string, string> = {}): Promise<ManagedServer | { skip: string }> {
  const debian = await debianPostgres(15);
  if ('skip' in debian) return debian;
  const env = testEnv(undefined, { PG_BIN: debian.binDir });
  const project = await makeProject({ postgresMajor: 15, engine: 'system', databases: ['postgres'], settings });
  const admin = await managedTarget(project, { env });
  await runStepsQuietly([initialiseStep, settingsStep, startStep], project.config, admin);
  const sql: ManagedServer['sql'] = (database, text, params = []) => query(admin, database, text, params);
  const port = project.config.port;
  return {
    project,
    admin,
    sql,
    async makeRole(name, database, setup = []) {
      const password = randomBytes(12).toString('hex');
      rememberSecret(password);
      await sql('postgres', `CREATE ROLE ${quoteIdent(name)} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD ${quoteLiteral(password)}`);
      await sql('postgres', `CREATE DATABASE ${quoteIdent(database)} OWNER ${quoteIdent(name)}`);
      // PostgreSQL 15 gives CREATE on public to its owner only (pg_database_owner): the database owner has it.
      for (const statement of setup) await sql(database, statement);
      return { name, database, url: `postgresql://${name}:${password}@127.0.0.1:${port}/${database}` };
    },
    async external(raw, url) {
      const config = resolveConfig(raw, { file: `${project.dir}/extensions.config.mjs`, projectDir: project.dir });
      return { config, target: await selectTarget(config, { url, env: testEnv() }) };
    },
    async startStandby() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-standby-'));
      fs.chmodSync(dir, 0o700);
      const as = admin.user;
      if (as) fs.chownSync(dir, as.uid, as.gid);
      const socket = String(connectionFor(admin, 'postgres').host);
      const bin = (name: string) => path.join(debian.binDir, name);
      await run(bin('pg_basebackup'), ['-h', socket, '-p', String(port), '-U', project.config.superuser, '-D', dir, '-R', '-X', 'stream', '-c', 'fast'], { as, timeoutMs: 120_000 });
      const standbyPort = await freePort();
      const options = `-p ${standbyPort} -k ${dir} -c listen_addresses=127.0.0.1`;
      await run(bin('pg_ctl'), ['-D', dir, '-l', path.join(dir, 'standby.log'), '-w', '-o', options, 'start'], { as, timeoutMs: 120_000 });
      return {
        port: standbyPort,
        async stop() {
          await run(bin('pg_ctl'), ['-D', dir, '-m', 'fast', '-w', 'stop'], { as, reject: false, timeoutMs: 60_000 });
          fs.rmSync(dir, { recursive: true, force: true });
        },
      };
    },
    stop: () => project.remove(),
  };
}
