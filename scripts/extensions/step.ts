/**
 * Enables the declared extensions in each database: reads what the server has and what the role may create,
 * plans, stops before any change when a required one is missing or not permitted, then applies each database's
 * changes in one transaction (an optional extension in a savepoint of its own).
 */
import type { ResolvedConfig, ResolvedExtension } from '../config/types.ts';
import { ExitCode, messageOf, partialFailure, PgstrapError } from '../shared/errors.ts';
import { findExtension } from './catalogue.ts';
import {
  describeDowngrade,
  describeExtensionAction,
  downgradeRemedy,
  extensionActionSql,
  planExtensions,
  undeclaredExtensions,
  type DatabaseExtensionFacts,
  type UndeclaredExtension,
  type MissingExtension,
  type ServerExtensionFacts,
} from './plan.ts';
import { withTransaction } from '../server/connection.ts';
import { readInstalledExtensions, readServerFacts, type OnDatabase } from './server.ts';
import { extraSearchDirs, readInstalledFiles } from './files.ts';
import { describeEngine, maintenanceDatabase, type ManagedTarget } from '../server/target.ts';
import { installedChecker } from './installed.ts';
import { declaredForTarget } from './targeted.ts';
import { desiredSettings } from './settings.ts';
import { loopbackHosts } from '../server/port.ts';
import { withSession, type RunContext, type Step } from '../pipeline/step.ts';

/** The run's session on each database. */
function onSessions(ctx: Pick<RunContext, 'target' | 'sessions'>): OnDatabase {
  return (database, fn) => withSession(ctx, database, fn);
}

/**
 * What a managed target's binaries provide, from their files, with the settings the settings step will
 * write: known before initdb, so a missing required extension stops setup before anything is created.
 */
async function readInstalledFacts(target: ManagedTarget, config: ResolvedConfig): Promise<ServerExtensionFacts> {
  const files = await readInstalledFiles(target.binaries, extraSearchDirs(config.settings));
  const isInstalled = installedChecker(files);
  const outputPlugins = new Map<string, string | undefined>();
  for (const ext of config.extensions.filter((e) => findExtension(e.name)?.kind === 'output-plugin')) {
    outputPlugins.set(ext.name, isInstalled(ext.name) ? undefined : `its library is not in ${files.pkglibdir ?? 'the server\'s library folder'}`);
  }
  return {
    kind: target.kind,
    label: describeEngine(target),
    major: target.binaries.major,
    available: new Map([...files.extensions].map((name) => [name, ''])),
    versions: undefined,
    settings: desiredSettings(config, isInstalled, { socketDir: target.layout.socketDir, listenHosts: await loopbackHosts(), outputPluginDefault: undefined }),
    outputPlugins,
  };
}

/** The error that stops setup when required extensions are missing, or (cause 'privilege') the role may not create them. */
function missingError(missing: MissingExtension[], label: string, role: string | undefined): PgstrapError {
  const names = missing.map((m) => m.name).join(', ');
  const privilege = missing.every((m) => m.cause === 'privilege');
  return new PgstrapError({
    code: privilege ? 'extension.not-permitted' : 'extension.missing',
    message: privilege
      ? `required extension${missing.length === 1 ? '' : 's'} ${names} cannot be created by role ${role} on ${label}: ${missing.length === 1 ? missing[0]!.reason : 'see each below'}`
      : `required extension${missing.length === 1 ? '' : 's'} ${names} not available on ${label}`,
    details: missing.flatMap((m) => [`${m.name} (${m.databases.join(', ')}): ${m.reason}`, `  fix: ${m.fix}`]),
    remedy: missing.length === 1 ? missing[0]!.fix : 'Apply the fix under each extension above.',
    exit: ExitCode.environment,
  });
}

/** For a server's refusal for want of a privilege (42501), what is needed; undefined for any other error. */
function describePrivilegeRefusal(error: unknown, name: string | undefined, role: string | undefined): string | undefined {
  if ((error as { code?: unknown }).code !== '42501') return undefined;
  const what = name ? `${name} needs` : 'That needs';
  return `${what} a role with CREATE privilege on the database and, for an untrusted extension, superuser or the provider's extension-admin role (rds_superuser, azure_pg_admin, cloudsqlsuperuser)${role ? `; role ${role} has not` : ''}`;
}

/** A warning line for a missing optional extension: what, why, how to get it. */
function missingNote(m: MissingExtension): string {
  return `optional extension ${m.name} skipped in ${m.databases.join(', ')}: ${m.reason}. To get it: ${m.fix}`;
}

/** A warning line for an installed extension the config no longer declares: where, the statement that drops it, why it matters. */
function describeUndeclared(u: UndeclaredExtension): string {
  return `${u.message}. To remove it: ${u.dropSql} in ${u.database}${u.warning ? `; ${u.warning}` : ''}`;
}

/** Required extensions only: optional ones are the extension step's warnings. */
function requiredDeclared(ctx: RunContext): ResolvedExtension[] {
  return declaredForTarget(ctx.config, ctx.target.databases).filter((e) => e.required);
}

/**
 * Runs before the cluster is touched: a required extension the server cannot provide stops setup
 * before any change (initdb, settings, databases), naming the extension, the server and the fix.
 */
export const extensionsCheckStep: Step = {
  id: 'extensions-check',
  title: 'Check required extensions',
  skip(ctx) {
    return requiredDeclared(ctx).length === 0 ? 'no required extensions declared' : undefined;
  },
  async run(ctx) {
    const { target, config } = ctx;
    const declared = requiredDeclared(ctx);
    const server =
      target.kind === 'external'
        ? // Its databases may not exist yet: plugins are checked in the maintenance database.
          await readServerFacts(target, declared, onSessions(ctx), () => maintenanceDatabase(target))
        : await readInstalledFacts(target, config);
    const plan = planExtensions(declared, server, target.databases.map((d) => ({ database: d.name, installed: new Map() })));
    if (plan.missing.length > 0) throw missingError(plan.missing, server.label, server.role?.role);
    return { notes: [`${declared.map((e) => e.name).join(', ')}: provided by ${server.label}`] };
  },
};

export const extensionsStep: Step = {
  id: 'extensions',
  title: 'Enable extensions',
  // Runs with nothing declared too: an extension installed before it was removed from the config is reported.
  async run(ctx) {
    const { target, config } = ctx;
    const declared = declaredForTarget(config, target.databases);
    // Each database on its own session, side by side with the server-wide questions, which go to the first
    // database's session (they exist now: the databases step ran) rather than opening the maintenance database.
    const serverDatabase = target.databases[0]?.name ?? maintenanceDatabase(target);
    const [server, databases] = await Promise.all([
      declared.length === 0 ? undefined : readServerFacts(target, declared, onSessions(ctx), undefined, serverDatabase),
      Promise.all(target.databases.map(async (db): Promise<DatabaseExtensionFacts> => ({ database: db.name, installed: await withSession(ctx, db.name, readInstalledExtensions) }))),
    ]);
    const undeclared = undeclaredExtensions(declared, databases).map(describeUndeclared);
    if (server === undefined) return { notes: undeclared, ...(undeclared.length > 0 ? { status: 'warning' as const } : {}) };
    const plan = planExtensions(declared, server, databases);
    const required = plan.missing.filter((m) => m.required);
    if (required.length > 0) throw missingError(required, server.label, server.role?.role);
    if (plan.downgrades.length > 0) {
      throw new PgstrapError({
        code: 'extension.downgrade',
        message: plan.downgrades.length === 1 ? describeDowngrade(plan.downgrades[0]!) : 'pinned versions older than the installed ones: downgrades, which ALTER EXTENSION cannot do',
        details: plan.downgrades.length === 1 ? [] : plan.downgrades.map(describeDowngrade),
        remedy: plan.downgrades.map(downgradeRemedy).join(' '),
        exit: ExitCode.usage,
      });
    }
    const optional = plan.missing.filter((m) => !m.required);

    const changes: string[] = [];
    const failedOptional: string[] = [];
    for (const { database, actions } of plan.databases) {
      if (actions.length === 0) continue;
      const done: string[] = [];
      const failed: string[] = [];
      try {
        // One transaction per database: it gets all of its required extensions or none; an optional one that
        // the server refuses anyway is rolled back to its savepoint alone, a warning that takes nothing else down.
        await withSession(ctx, database, (client) =>
          withTransaction(client, async () => {
            for (const action of actions) {
              const line = describeExtensionAction(database, action);
              ctx.log(line);
              const optionalHere = !declared.some((e) => e.name === action.name && e.required && e.databases.includes(database));
              if (!optionalHere) {
                for (const sql of extensionActionSql(action)) await client.query(sql);
                done.push(line);
                continue;
              }
              await client.query('SAVEPOINT pgstrap_extension');
              try {
                for (const sql of extensionActionSql(action)) await client.query(sql);
                await client.query('RELEASE SAVEPOINT pgstrap_extension');
                done.push(line);
              } catch (error) {
                await client.query('ROLLBACK TO SAVEPOINT pgstrap_extension');
                const needs = describePrivilegeRefusal(error, action.name, server.role?.role);
                failed.push(`optional extension ${action.name} skipped in ${database}: the server refused it: ${messageOf(error)}${needs ? `. ${needs}` : ''}`);
              }
            }
          }),
        );
      } catch (error) {
        throw partialFailure({
          code: 'extension.failed',
          what: 'enabling extensions',
          database,
          done: changes,
          remedy: `${describePrivilegeRefusal(error, undefined, server.role?.role) ?? 'Fix the cause above'}. Then run \`npm run setup\` again; it continues from what is done.`,
          cause: error,
        });
      }
      changes.push(...done);
      failedOptional.push(...failed);
    }
    const notes = [...optional.map(missingNote), ...failedOptional, ...plan.notes, ...undeclared];
    const warn = optional.length > 0 || failedOptional.length > 0 || undeclared.length > 0;
    return { changes, notes, ...(warn ? { status: 'warning' as const } : {}) };
  },
};
