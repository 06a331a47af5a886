/** Reads what the connected role is and may do (RoleFacts, judged by privileges.ts); one statement, values as parameters. */
import type pg from 'pg';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { withClient, type PipelinedStatement, type PipelineRow } from './connection.ts';
import { describeReadOnly, PROVIDER_ADMIN_ROLES, type CreateRights, type RoleFacts } from './privileges.ts';
import { connectionFor, describeEngine, maintenanceDatabase, type Target } from './target.ts';

/**
 * The role's standing, for the managed `databases` (those that exist): superuser, provider admin roles,
 * pg_read_all_settings, CREATE and ownership per database, and whether a transaction would be read-only.
 */
export function roleStatement(databases: readonly string[]): PipelinedStatement {
  return {
    text: `SELECT current_user AS role,
       coalesce((SELECT rolsuper FROM pg_roles WHERE rolname = current_user), false) AS superuser,
       ARRAY(SELECT rolname::text FROM pg_roles WHERE rolname = ANY($1::text[]) AND pg_has_role(current_user, oid, 'MEMBER') ORDER BY rolname) AS provider_admin,
       pg_has_role(current_user, 'pg_read_all_settings', 'USAGE') AS read_all_settings,
       ARRAY(SELECT datname::text FROM pg_database WHERE datname = ANY($2::text[]) AND has_database_privilege(oid, 'CREATE') ORDER BY datname) AS create_on,
       ARRAY(SELECT d.datname::text FROM pg_database d JOIN pg_roles r ON r.oid = d.datdba WHERE d.datname = ANY($2::text[]) AND pg_has_role(current_user, r.oid, 'MEMBER') ORDER BY d.datname) AS owns,
       current_setting('transaction_read_only') = 'on' AS read_only,
       pg_is_in_recovery() AS in_recovery`,
    values: [[...PROVIDER_ADMIN_ROLES], [...databases]],
  };
}

/** The row roleStatement returned. */
export function toRoleFacts(rows: readonly PipelineRow[]): RoleFacts {
  const r = rows[0] as { role: string; superuser: boolean; provider_admin: string[]; read_all_settings: boolean; create_on: string[]; owns: string[]; read_only: boolean; in_recovery: boolean };
  const superuser = r.superuser;
  return {
    role: r.role,
    superuser,
    // A superuser is a member of every role: the provider roles say nothing more then.
    providerAdmin: superuser ? [] : r.provider_admin,
    readAllSettings: superuser || r.read_all_settings,
    createOn: r.create_on,
    owns: r.owns,
    readOnly: r.read_only,
    inRecovery: r.in_recovery,
  };
}

/** RoleFacts for `databases`, on `client`. */
export async function readRoleFacts(client: pg.Client, databases: readonly string[]): Promise<RoleFacts> {
  const statement = roleStatement(databases);
  return toRoleFacts((await client.query(statement.text, statement.values as unknown[])).rows);
}

/**
 * Refuses a command that writes (`verb`: setup, migrate) on a server that takes no writes from this role,
 * before anything changes: a read-only role or a standby would fail half way through otherwise.
 */
export function assertWritable(target: Target, role: RoleFacts, verb: string): void {
  const why = describeReadOnly(role);
  if (why === undefined) return;
  throw new PgstrapError({
    code: 'server.read-only',
    message: `${verb} changes the server, but ${describeEngine(target)} is read-only here: ${why}; nothing was changed`,
    remedy: role.inRecovery
      ? `Point ${verb} at the primary (--url). doctor, verify and migrate:status work read-only on a standby.`
      : `Run ${verb} with a role that may write (or ALTER ROLE ${role.role} SET default_transaction_read_only = off). doctor, verify and migrate:status work read-only.`,
    exit: ExitCode.database,
  });
}

/** CREATE on `schema` and on the connected database, for the connected role. */
export async function readCreateRights(client: pg.Client, schema: string): Promise<CreateRights> {
  const { rows } = await client.query<{ role: string; database: string; on_schema: boolean | null; on_database: boolean }>(
    `SELECT current_user AS role, current_database() AS database,
            (SELECT has_schema_privilege(oid, 'CREATE') FROM pg_namespace WHERE nspname = $1) AS on_schema,
            has_database_privilege(current_database(), 'CREATE') AS on_database`,
    [schema],
  );
  const r = rows[0]!;
  return { role: r.role, database: r.database, schema, onSchema: r.on_schema ?? undefined, onDatabase: r.on_database };
}

/** assertWritable for an external target, asked on its maintenance database; a project-local cluster always takes writes. */
export async function assertTargetWritable(target: Target, verb: string): Promise<void> {
  if (target.kind !== 'external') return;
  const role = await withClient(connectionFor(target, maintenanceDatabase(target)), (client) => readRoleFacts(client, target.databases.map((d) => d.name)));
  assertWritable(target, role, verb);
}
