/**
 * Creates the configured databases that are missing. Drops none, but a declared one an interrupted DROP
 * DATABASE left invalid, on the project's cluster (databases/plan.ts); on a server by URL that is an error.
 */
import { ExitCode, isPgstrapError, partialFailure, PgstrapError } from '../shared/errors.ts';
import { createDatabaseStatement, dropDatabaseStatement, planDatabases, type DatabaseState } from './plan.ts';
import { withClient } from '../server/connection.ts';
import { listDatabases } from './inspect.ts';
import { connectionFor, maintenanceDatabase } from '../server/target.ts';
import { withSession, type RunContext, type Step } from '../pipeline/step.ts';

/**
 * The server's database names. On the project's cluster that already ran, through the first configured
 * database's session, which the later steps use anyway (pg_database is shared by all databases): a warm run
 * then opens no connection to the maintenance database, one backend start fewer. Where that database is
 * missing (3D000) or cannot be opened (an invalid one), and on a fresh cluster or a server reached by URL, through the maintenance database.
 */
async function readDatabaseNames(ctx: RunContext, fresh: boolean): Promise<Map<string, DatabaseState>> {
  const { target } = ctx;
  const maintenance = maintenanceDatabase(target);
  const first = target.databases[0]?.name;
  if (target.kind !== 'external' && !fresh && first !== undefined && first !== maintenance) {
    try {
      return await withSession(ctx, first, listDatabases);
    } catch (error) {
      if (!(isPgstrapError(error) && (error.code === 'db.missing-database' || error.code === 'db.unavailable-database'))) throw error;
    }
  }
  return withSession(ctx, maintenance, listDatabases);
}


export const databasesStep: Step = {
  id: 'databases',
  title: 'Create databases',
  skip(ctx) {
    return ctx.target.kind === 'external' && !ctx.target.mayCreateDatabases ? 'the URL names the database' : undefined;
  },
  async run(ctx) {
    const { target } = ctx;
    const connection = connectionFor(target, maintenanceDatabase(target));
    const names = target.databases.map((d) => d.name);
    // The later steps work in every database: their sessions connect side by side with the listing, unless
    // this run just created or started the cluster (a connect to a database not created yet logs an error).
    const fresh = ctx.reports.some((r) => (r.id === 'cluster' || r.id === 'start') && r.changes.length > 0);
    if (!fresh) ctx.sessions?.prepare(names);
    const { create: missing, rebuild } = planDatabases(names, await readDatabaseNames(ctx, fresh));
    if (rebuild.length > 0 && target.kind === 'external') throw invalidDatabases(rebuild);
    if (fresh) ctx.sessions?.prepare(names.filter((name) => !missing.includes(name)));
    // A session that tried a missing (or invalid) database failed; it is dropped, to connect again once the database exists.
    await Promise.all(missing.map((name) => ctx.sessions?.close(name)));
    // Nothing can connect to an invalid database, and the server refuses everything but its drop.
    const rebuilt: string[] = [];
    for (const name of rebuild) {
      ctx.log(dropDatabaseStatement(name));
      try {
        await withClient(connection, (c) => c.query(dropDatabaseStatement(name)));
      } catch (cause) {
        throw partialFailure({
          code: 'databases.drop-failed',
          what: 'DROP DATABASE',
          database: name,
          done: rebuilt,
          remedy: 'Fix the cause above, then run npm run setup again: it drops the invalid database and creates it.',
          cause,
        });
      }
      rebuilt.push(`dropped database ${name}, which an interrupted DROP DATABASE had left invalid (nothing could open it)`);
    }
    // In a cluster this run just made (15+), the template is copied file by file (STRATEGY FILE_COPY): its two
    // checkpoints find nothing else to write, where the default WAL_LOG sends every page of the template through
    // the WAL and the buffers, to be written again by the next checkpoint (the next stop's: 0.19 s for two
    // databases here). Elsewhere WAL_LOG, whose cost does not grow with what the cluster has not yet written.
    const madeNow = target.kind !== 'external' && ctx.reports.some((r) => r.id === 'cluster' && r.changes.length > 0);
    const strategy = madeNow ? { strategy: 'FILE_COPY' as const, serverMajor: target.binaries.major } : {};
    const create = (name: string) => createDatabaseStatement(name, strategy);
    for (const name of missing) ctx.log(create(name));
    // CREATE DATABASE cannot run in a transaction, but each is atomic; on separate connections they copy
    // the template in parallel (two databases: 80 -> 40 ms).
    const results = await Promise.allSettled(missing.map((name) => withClient(connection, (c) => c.query(create(name)))));
    const created = missing.filter((_, i) => results[i]!.status === 'fulfilled');
    ctx.sessions?.prepare(created);
    const changes = [...rebuilt, ...created.map((name) => `created database ${name}`)];
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      throw partialFailure({
        code: 'databases.create-failed',
        what: 'CREATE DATABASE',
        database: missing[failed]!,
        done: changes,
        remedy: 'Fix the cause above (disk space, permissions, a name the server refuses), then run npm run setup again.',
        cause: (results[failed] as PromiseRejectedResult).reason,
      });
    }
    // Said, not refused: hosted servers often give an app the "postgres" database, and a config mirrors them.
    const maintenance = ctx.config.databases.some((d) => d.name === 'postgres')
      ? ['"postgres" is listed: it is also the maintenance database every tool connects to first; the extensions, uuidv7() and the migrations go into it as into any listed database']
      : [];
    return { changes, notes: maintenance };
  },
};

/** On a server pgstrap does not run, an invalid declared database is for its owner to drop. */
function invalidDatabases(names: readonly string[]): PgstrapError {
  const [s, is, it] = names.length === 1 ? ['', 'is', 'it'] : ['s', 'are', 'them'];
  return new PgstrapError({
    code: 'databases.invalid',
    message: `database${s} ${names.join(', ')} ${is} invalid: an interrupted DROP DATABASE left ${it} half removed, and nothing can open ${it}`,
    details: names.map((name) => `${dropDatabaseStatement(name)};`),
    remedy: 'Drop it on that server (the statements above: the server allows nothing else on an invalid database), then run npm run setup again, which creates it.',
    exit: ExitCode.cluster,
  });
}
