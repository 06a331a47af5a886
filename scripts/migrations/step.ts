/** Applies each database's migrations: the built-in SQL runner, then the app's own command if the config names one. */
import fs from 'node:fs';
import { displayCommand } from './errors.ts';
import { runMigrationCommand } from './command.ts';
import { migrateDatabase, revertLast, type MigrateOptions } from './runner.ts';
import type { RunContext, Step } from '../pipeline/step.ts';

/**
 * Why there is nothing to run: no migrations folder and no command, for any database. A folder the config
 * names is never skipped, so that a missing one is the runner's error rather than "nothing to do".
 */
function nothingConfigured(ctx: RunContext): string | undefined {
  const active = ctx.target.databases.some(
    (db) => db.migrations.command !== undefined || (db.migrations.builtIn && (db.migrations.directoryKey !== undefined || fs.existsSync(db.migrations.directory))),
  );
  return active ? undefined : 'no migrations folder and no migrations.command';
}

/** The migrations step with `npm run migrate`'s flags (`--accept`, `--retry`, `--lock-timeout`). */
export function createMigrationsStep(options: Omit<MigrateOptions, 'log'> = {}): Step {
  return {
    id: 'migrations',
    title: 'Apply migrations',
    skip: nothingConfigured,
    async run(ctx) {
      const changes: string[] = [];
      const handedOff: string[] = [];
      for (const db of ctx.target.databases) {
        if (db.migrations.builtIn) changes.push(...(await migrateDatabase(ctx.target, db, { ...options, log: ctx.log, sessions: ctx.sessions })).changes);
        const command = db.migrations.command;
        if (command === undefined) continue;
        ctx.log(`${db.name}: running ${displayCommand(command)}`);
        const { durationMs } = await runMigrationCommand(ctx.target, db.name, command, ctx.log);
        // The command's own output says what it changed; pgstrap cannot tell, so this is a hand-off, not a change.
        handedOff.push(`ran \`${displayCommand(command)}\` on database ${db.name}: it succeeded (exit 0) in ${(durationMs / 1000).toFixed(2)} s`);
      }
      return { changes, handedOff };
    },
  };
}

/** The step setup runs after uuidv7() and before verification. */
export const migrationsStep: Step = createMigrationsStep();

/** `migrate:down`: reverts the last applied migration of each database with its down section. */
export function createRevertStep(options: Omit<MigrateOptions, 'log' | 'accept' | 'retry'> = {}): Step {
  return {
    id: 'migrations-down',
    title: 'Revert the last migration',
    async run(ctx) {
      const changes: string[] = [];
      for (const db of ctx.target.databases) {
        if (db.migrations.builtIn) changes.push(...(await revertLast(ctx.target, db, { ...options, log: ctx.log, sessions: ctx.sessions })).changes);
      }
      return { changes, notes: changes.length === 0 ? ['no migration is applied'] : [] };
    },
  };
}
