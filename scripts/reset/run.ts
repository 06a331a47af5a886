/** `db:reset`: drops the chosen databases (ending their sessions) and builds them again as setup would, then seeds them. */
import type { Step } from '../pipeline/step.ts';
import { withClient } from '../server/connection.ts';
import { connectionFor, maintenanceDatabase, type Target } from '../server/target.ts';
import { describeDrop, dropStatements } from './plan.ts';

/** A step that drops `names`, each after counting the sessions WITH (FORCE) ends. */
export function dropDatabasesStep(names: readonly string[]): Step {
  return {
    id: 'drop-databases',
    title: 'Drop databases',
    async run(ctx) {
      const changes: string[] = [];
      const notes: string[] = [];
      // Sessions of the run that point at these databases would be ended too: close them first.
      await Promise.all(names.map((n) => ctx.sessions?.close(n)));
      await withClient(connectionFor(ctx.target, maintenanceDatabase(ctx.target)), async (client) => {
        for (const name of names) {
          const existed = (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
          const { countOthers, drop } = dropStatements(name);
          const others = existed ? Number((await client.query<{ n: number }>(countOthers.text, countOthers.values)).rows[0]!.n) : 0;
          ctx.log(drop);
          await client.query(drop);
          const line = describeDrop(name, existed, others);
          (existed ? changes : notes).push(line);
        }
      });
      return { changes, notes };
    },
  };
}

/** The target narrowed to `names`. */
export function narrowTarget(target: Target, names: readonly string[]): Target {
  return { ...target, databases: target.databases.filter((d) => names.includes(d.name)) } as Target;
}
