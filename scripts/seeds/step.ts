/** Applies each database's seed files in name order, each in one transaction (one round trip per file). */
import type pg from 'pg';
import { serverError } from '../migrations/errors.ts';
import { PipelineError, queryPipelineInTransaction } from '../server/connection.ts';
import { withSession, type RunContext, type Step } from '../pipeline/step.ts';
import { seedFailed } from './errors.ts';
import { readSeeds } from './files.ts';
import { seedsOf, type SeedSource } from './source.ts';

/** Runs one seed file as BEGIN, its statements, COMMIT; a failure names the file, line and column. */
export async function applySeed(client: pg.Client, seed: SeedSource, database: string, applied: readonly string[]): Promise<void> {
  try {
    await queryPipelineInTransaction(client, [{ text: 'BEGIN' }, ...seed.statements.map((s) => ({ text: s.text })), { text: 'COMMIT' }]);
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    const index = error.index - 1;
    if (index < 0 || index >= seed.statements.length) throw error.serverError;
    throw seedFailed(seed, index, database, serverError(error.serverError), applied);
  }
}

/** Why there is nothing to seed: no database has a seeds folder. */
function nothingConfigured(ctx: RunContext): string | undefined {
  const any = ctx.target.databases.some((db) => readSeeds(seedsOf(db, ctx.config), ctx.config.projectDir).length > 0 || seedsOf(db, ctx.config).directoryKey !== undefined);
  return any ? undefined : 'no seeds folder (seeds/)';
}

/** `db:seed` and `db:reset`: every seed file of every target database, in name order. */
export const seedsStep: Step = {
  id: 'seeds',
  title: 'Apply seeds',
  skip: nothingConfigured,
  async run(ctx) {
    const changes: string[] = [];
    for (const db of ctx.target.databases) {
      const seeds = readSeeds(seedsOf(db, ctx.config), ctx.config.projectDir);
      const applied: string[] = [];
      for (const seed of seeds) {
        const started = performance.now();
        await withSession(ctx, db.name, (client) => applySeed(client, seed, db.name, applied));
        applied.push(seed.path);
        const line = `seeded ${db.name} with ${seed.path} (${Math.round(performance.now() - started)} ms)`;
        ctx.log(line);
        changes.push(line);
      }
    }
    return { changes, notes: changes.length === 0 ? ['the seeds folder holds no .sql file'] : [] };
  },
};
