/** Creates the configured databases that are missing; never drops one. */
import { quoteIdent } from '../core/identifiers.ts';
import { planDatabases } from '../core/plan/databases.ts';
import { withClient } from '../db/client.ts';
import { listDatabases } from '../db/inspect.ts';
import { connectionFor, maintenanceDatabase } from '../engines/target.ts';
import type { Step } from './step.ts';

export const databasesStep: Step = {
  id: 'databases',
  title: 'Create databases',
  skip(ctx) {
    return ctx.target.kind === 'external' && !ctx.target.mayCreateDatabases ? 'the URL names the database' : undefined;
  },
  async run(ctx) {
    const { target } = ctx;
    return withClient(connectionFor(target, maintenanceDatabase(target)), async (client) => {
      const missing = planDatabases(target.databases.map((d) => d.name), await listDatabases(client));
      for (const name of missing) ctx.log(`CREATE DATABASE ${quoteIdent(name)}`);
      // CREATE DATABASE cannot run in a transaction; each one is atomic on its own.
      for (const name of missing) await client.query(`CREATE DATABASE ${quoteIdent(name)}`);
      return { changes: missing.map((name) => `created database ${name}`) };
    });
  },
};
