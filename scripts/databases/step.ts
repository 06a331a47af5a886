/** Creates the configured databases that are missing; never drops one. */
import { partialFailure } from '../shared/errors.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { planDatabases } from './plan.ts';
import { withClient } from '../server/connection.ts';
import { listDatabases } from './inspect.ts';
import { connectionFor, maintenanceDatabase } from '../server/target.ts';
import { withSession, type Step } from '../pipeline/step.ts';

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
    const missing = await withSession(ctx, maintenanceDatabase(target), async (client) => planDatabases(names, await listDatabases(client)));
    if (fresh) ctx.sessions?.prepare(names.filter((name) => !missing.includes(name)));
    // A session that tried a missing database failed; it is dropped, to connect again once the database exists.
    await Promise.all(missing.map((name) => ctx.sessions?.close(name)));
    for (const name of missing) ctx.log(`CREATE DATABASE ${quoteIdent(name)}`);
    // CREATE DATABASE cannot run in a transaction, but each is atomic; on separate connections they copy
    // the template in parallel (two databases: 80 -> 40 ms).
    const results = await Promise.allSettled(missing.map((name) => withClient(connection, (c) => c.query(`CREATE DATABASE ${quoteIdent(name)}`))));
    const created = missing.filter((_, i) => results[i]!.status === 'fulfilled');
    ctx.sessions?.prepare(created);
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed >= 0) {
      throw partialFailure({
        code: 'databases.create-failed',
        what: 'CREATE DATABASE',
        database: missing[failed]!,
        done: created.map((name) => `created database ${name}`),
        remedy: 'Fix the cause above (disk space, permissions, a name the server refuses), then run npm run setup again.',
        cause: (results[failed] as PromiseRejectedResult).reason,
      });
    }
    // Said, not refused: hosted servers often give an app the "postgres" database, and a config mirrors them.
    const maintenance = ctx.config.databases.some((d) => d.name === 'postgres')
      ? ['"postgres" is listed: it is also the maintenance database every tool connects to first; the extensions, uuidv7() and the migrations go into it as into any listed database']
      : [];
    return { changes: created.map((name) => `created database ${name}`), notes: maintenance };
  },
};
