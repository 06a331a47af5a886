/**
 * What the connected role may do on a server, from facts its reader (read-privileges.ts) gathers: create an
 * extension, read a setting, change one, write at all. Managed services (RDS, Cloud SQL, Azure, Supabase, Neon)
 * hand an app a role that owns its database but is not superuser; pgstrap asks before it tries, and says what
 * is missing. Pure.
 */
import { quoteIdent, quoteLiteral } from '../shared/identifiers.ts';

/**
 * Roles a provider gives its admin user in place of superuser; a member may create the extensions the provider
 * allows, trusted or not. pgstrap treats membership as superuser for CREATE EXTENSION, and says so.
 */
export const PROVIDER_ADMIN_ROLES = ['rds_superuser', 'azure_pg_admin', 'cloudsqlsuperuser'] as const;

/** What the connected role is and may do, server-wide and in the databases pgstrap manages. */
export interface RoleFacts {
  /** current_user. */
  role: string;
  superuser: boolean;
  /** The provider extension-admin roles (PROVIDER_ADMIN_ROLES) it is a member of. */
  providerAdmin: readonly string[];
  /** Member of pg_read_all_settings (or superuser): may read settings such as shared_preload_libraries. */
  readAllSettings: boolean;
  /** The managed databases it has CREATE on (schemas, trusted extensions). */
  createOn: readonly string[];
  /** The managed databases it owns (ALTER DATABASE ... SET of user settings). */
  owns: readonly string[];
  /** transaction_read_only in a new transaction (default_transaction_read_only, or a standby). */
  readOnly: boolean;
  /** pg_is_in_recovery(): a standby, read-only whatever the role. */
  inRecovery: boolean;
}

/** The role a project-local cluster's steps run as: its superuser. */
export function superuserFacts(role: string): RoleFacts {
  return { role, superuser: true, providerAdmin: [], readAllSettings: true, createOn: [], owns: [], readOnly: false, inRecovery: false };
}

/** Whether the role may create an extension in `database`, and by which right; or why not, with the fix. */
export type CreatePermission = { ok: true; via: string } | { ok: false; reason: string; fix: string };

/** The role's standing, for a message: `role app_owner (not superuser)`. */
function roleWords(role: RoleFacts): string {
  return `role ${role.role} (not superuser${role.providerAdmin.length === 0 ? `, not a member of ${PROVIDER_ADMIN_ROLES.join(', ')}` : ''})`;
}

/**
 * May the role CREATE EXTENSION `name` in `database`? Superuser may; a member of a provider's extension-admin role
 * is treated as one; anyone else needs a trusted extension (pg_available_extension_versions.trusted) and CREATE
 * on the database. `trusted` undefined (not read): cannot tell, so pgstrap lets the server judge.
 */
export function checkCreateExtension(role: RoleFacts, name: string, trusted: boolean | undefined, database: string): CreatePermission {
  if (role.superuser) return { ok: true, via: 'superuser' };
  if (role.providerAdmin.length > 0) {
    return { ok: true, via: `member of ${role.providerAdmin.join(', ')} (a provider's extension-admin role, treated as superuser for CREATE EXTENSION)` };
  }
  if (trusted === undefined) return { ok: true, via: 'not known to be untrusted' };
  const grant = `GRANT CREATE ON DATABASE ${quoteIdent(database)} TO ${quoteIdent(role.role)} (as the database's owner)`;
  if (!trusted) {
    return {
      ok: false,
      reason: `${roleWords(role)} may create only trusted extensions, and ${name} is not one`,
      fix:
        `${name} is not trusted: ask for it through the provider's extension setting (its allow-list or extension page), ` +
        `or run setup as a role with CREATE privilege and superuser/rds_superuser (azure_pg_admin, cloudsqlsuperuser).`,
    };
  }
  if (!role.createOn.includes(database)) {
    return { ok: false, reason: `${name} is trusted, but ${roleWords(role)} has no CREATE privilege on database ${database}`, fix: `${grant}, or run setup as the database's owner.` };
  }
  return { ok: true, via: `trusted extension, CREATE on database ${database}` };
}

/** Why the role may not read `setting`, for a message. */
export function unreadableSetting(role: RoleFacts, setting: string): string {
  return `${setting} is unknown: role ${role.role} may not read it (that needs superuser or pg_read_all_settings)`;
}

/** Why a server takes no writes from this role, or undefined when it does. */
export function describeReadOnly(role: RoleFacts): string | undefined {
  if (role.inRecovery) return 'the server is a standby in recovery (pg_is_in_recovery()): it takes no writes';
  if (role.readOnly) return `transactions of role ${role.role} are read-only (default_transaction_read_only = on, for the role, its database or the server)`;
  return undefined;
}

/** How a setting can be changed from this role: the setting's context (pg_settings.context) decides. */
export interface SettingChangeWay {
  /** The statement to run, or undefined when only the provider can change it. */
  statement: string | undefined;
  /** One sentence: the statement and when it takes effect, or the provider's setting. */
  how: string;
}

/**
 * The way to set `name` to `value` for `databases`: ALTER DATABASE ... SET for a user setting the role's databases
 * let it set (owner or superuser), ALTER SYSTEM as superuser (a reload or, for postmaster settings, a
 * restart), else the provider's parameter group (RDS), flags (Cloud SQL) or server parameters (Azure).
 */
export function settingChangeWay(role: RoleFacts, name: string, value: string, context: string | undefined, databases: readonly string[]): SettingChangeWay {
  const literal = quoteLiteral(value);
  const perDatabase = context === 'user' || (context === 'superuser' && role.superuser);
  if (perDatabase && databases.length > 0 && (role.superuser || databases.every((d) => role.owns.includes(d)))) {
    const statement = databases.map((d) => `ALTER DATABASE ${quoteIdent(d)} SET ${name} = ${literal}`).join('; ');
    return { statement, how: `${statement} (new sessions)` };
  }
  if (role.superuser && context !== 'internal') {
    const statement = `ALTER SYSTEM SET ${name} = ${literal}`;
    const after = context === 'postmaster' ? 'then restart the server' : 'then SELECT pg_reload_conf()';
    return { statement, how: `${statement}, ${after}` };
  }
  const restart = context === 'postmaster' ? ', then restart the server' : '';
  return { statement: undefined, how: `set ${name} = ${literal} in the provider's parameter group / server parameters${restart} (role ${role.role} may not change it)` };
}

/** Whether the role may create in a schema and in the database, where a stage would create functions or a schema. */
export interface CreateRights {
  role: string;
  database: string;
  /** CREATE on `schema`; undefined when the schema does not exist. */
  onSchema: boolean | undefined;
  schema: string;
  /** CREATE on the database (CREATE SCHEMA, even IF NOT EXISTS). */
  onDatabase: boolean;
}

/**
 * What the role lacks to create functions in `schema` (when `functions`) and (when `newSchema`, a schema of pgstrap's own) a schema
 * in the database, each with the GRANT that gives it; empty when it has all it needs.
 */
export function missingCreateRights(rights: CreateRights, needs: { functions: boolean; newSchema: string | undefined }): Array<{ lacks: string; grant: string }> {
  const missing: Array<{ lacks: string; grant: string }> = [];
  const role = quoteIdent(rights.role);
  const { newSchema } = needs;
  if (needs.functions && rights.onSchema !== true) {
    missing.push({
      lacks: rights.onSchema === undefined ? `schema ${rights.schema} does not exist in ${rights.database}` : `CREATE privilege on schema ${rights.schema} in ${rights.database}`,
      grant: rights.onSchema === undefined ? `CREATE SCHEMA ${quoteIdent(rights.schema)} AUTHORIZATION ${role}` : `GRANT CREATE ON SCHEMA ${quoteIdent(rights.schema)} TO ${role}`,
    });
  }
  if (newSchema !== undefined && !rights.onDatabase) {
    missing.push({
      lacks: `CREATE privilege on database ${rights.database} (for schema ${newSchema})`,
      grant: `GRANT CREATE ON DATABASE ${quoteIdent(rights.database)} TO ${role}, or CREATE SCHEMA ${quoteIdent(newSchema)} AUTHORIZATION ${role}`,
    });
  }
  return missing;
}
