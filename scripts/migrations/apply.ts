/**
 * Applies or reverts one migration file. A transactional file runs in one transaction together with its
 * tracking row, so a failure leaves no trace; it is sent in one round trip (BEGIN, its statements, the
 * row, COMMIT as one pipeline). A `no-transaction` file sends one statement per query
 * (several in one query would form an implicit transaction: CREATE INDEX CONCURRENTLY fails with 25001,
 * ALTER TYPE ... ADD VALUE then a use of the value with 55P04) and records its progress as it goes.
 */
import type pg from 'pg';
import { statementFailed, type ServerError } from '../core/migrations/errors.ts';
import type { MigrationSource } from '../core/migrations/source.ts';
import type { SqlStatement } from '../core/migrations/split.ts';
import { PipelineError, queryPipeline, withTransaction, type PipelinedStatement } from '../db/client.ts';
import { appliedRowStatement, deleteHistory, insertHistory, markApplied, recordProgress } from './history.ts';

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
 * Runs a transactional file's up section and its tracking row in one round trip. Each statement is still
 * parsed and run after the one before it, as when sent one by one, and a server error names the statement
 * it came from, so errors keep their file:line:col. `asynchronousCommit` skips waiting for the commit's
 * WAL flush (SET LOCAL: this transaction only).
 */
async function applyInOneRoundTrip(client: pg.Client, source: MigrationSource, database: string, asynchronousCommit: boolean): Promise<void> {
  const prefix: PipelinedStatement[] = [{ text: 'BEGIN' }, ...(asynchronousCommit ? [{ text: 'SET LOCAL synchronous_commit TO off' }] : [])];
  const statements = [...prefix, ...source.up.map((s) => ({ text: s.text })), appliedRowStatement(source), { text: 'COMMIT' }];
  try {
    await queryPipeline(client, statements);
  } catch (error) {
    // The server skipped the rest up to the pipeline's end; the transaction is aborted (or over, after COMMIT).
    await client.query('ROLLBACK').catch(() => {});
    if (!(error instanceof PipelineError)) throw error;
    const index = error.index - prefix.length;
    if (index < 0 || index >= source.up.length) throw error.serverError;
    throw statementFailed({ source, statement: source.up[index]!, index, total: source.up.length, direction: 'up', database }, serverError(error.serverError));
  }
}

/** How a file is applied: `asynchronousCommit` when a later file's commit will flush its WAL anyway. */
export interface ApplyOptions {
  /** 0-based statement index where a non-transactional file that stopped half way continues; its tracking row exists. */
  resumeFrom?: number | undefined;
  asynchronousCommit?: boolean | undefined;
}

/** Applies `source` and records it; returns the milliseconds it took. */
export async function applyMigration(client: pg.Client, source: MigrationSource, database: string, options: ApplyOptions = {}): Promise<number> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  const { resumeFrom } = options;
  if (source.transactional) {
    await applyInOneRoundTrip(client, source, database, options.asynchronousCommit ?? false);
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
