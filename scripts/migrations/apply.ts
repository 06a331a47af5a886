/**
 * Applies or reverts one migration file. A transactional file runs in one transaction together with its
 * tracking row, so a failure leaves no trace. A `no-transaction` file sends one statement per query
 * (several in one query would form an implicit transaction: CREATE INDEX CONCURRENTLY fails with 25001,
 * ALTER TYPE ... ADD VALUE then a use of the value with 55P04) and records its progress as it goes.
 */
import type pg from 'pg';
import { statementFailed, type ServerError } from '../core/migrations/errors.ts';
import type { MigrationSource } from '../core/migrations/source.ts';
import type { SqlStatement } from '../core/migrations/split.ts';
import { withTransaction } from '../db/client.ts';
import { deleteHistory, insertHistory, markApplied, recordProgress } from './history.ts';

/** Runs `statements` in order from `from`; a failure becomes a `migrate.failed` error naming file, line and statement. */
async function runStatements(
  client: pg.Client,
  source: MigrationSource,
  statements: readonly SqlStatement[],
  context: { database: string; direction: 'up' | 'down'; from?: number; afterEach?: (done: number) => Promise<void> },
): Promise<void> {
  for (let i = context.from ?? 0; i < statements.length; i++) {
    const statement = statements[i]!;
    try {
      await client.query(statement.text);
    } catch (error) {
      throw statementFailed({ source, statement, index: i, total: statements.length, direction: context.direction, database: context.database }, serverError(error));
    }
    await context.afterEach?.(i + 1);
  }
}

/** The fields of a pg error, or a lost connection described as such. */
function serverError(error: unknown): ServerError {
  const e = error as Partial<pg.DatabaseError> & Error;
  if (e.code === undefined || !/^[0-9A-Z]{5}$/.test(e.code)) {
    return { message: `the connection to the server was lost or refused: ${e.message}` };
  }
  return { message: e.message, code: e.code, position: e.position, detail: e.detail, hint: e.hint, where: e.where };
}

/**
 * Applies `source` and records it; returns the milliseconds it took. `resumeFrom` (0-based statement index)
 * continues a non-transactional file that stopped half way; its tracking row exists already.
 */
export async function applyMigration(client: pg.Client, source: MigrationSource, database: string, resumeFrom?: number): Promise<number> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  if (source.transactional) {
    await withTransaction(client, async () => {
      await runStatements(client, source, source.up, { database, direction: 'up' });
      await insertHistory(client, source, 'applied', elapsed());
    });
    return elapsed();
  }
  if (resumeFrom === undefined) await insertHistory(client, source, 'running', null);
  await runStatements(client, source, source.up, {
    database,
    direction: 'up',
    from: resumeFrom ?? 0,
    afterEach: (done) => recordProgress(client, source.version, done),
  });
  await markApplied(client, source, elapsed());
  return elapsed();
}

/** Runs the down section of `source` and deletes its tracking row (in the same transaction when transactional). */
export async function revertMigration(client: pg.Client, source: MigrationSource, database: string): Promise<number> {
  const started = performance.now();
  const down = source.down ?? [];
  if (source.transactional) {
    await withTransaction(client, async () => {
      await runStatements(client, source, down, { database, direction: 'down' });
      await deleteHistory(client, source.version);
    });
  } else {
    await runStatements(client, source, down, { database, direction: 'down' });
    await deleteHistory(client, source.version);
  }
  return Math.round(performance.now() - started);
}
