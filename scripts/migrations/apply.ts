/**
 * Applies or reverts migration files. A transactional file runs in one transaction together with its
 * tracking row, so a failure leaves no trace; consecutive ones are sent together, in one round trip
 * (see applyTransactionalFiles). A `no-transaction` file sends one statement per query
 * (several in one query would form an implicit transaction: CREATE INDEX CONCURRENTLY fails with 25001,
 * ALTER TYPE ... ADD VALUE then a use of the value with 55P04) and records its progress as it goes.
 */
import type pg from 'pg';
import { serverError, statementFailed } from './errors.ts';
import type { MigrationSource } from './source.ts';
import type { SqlStatement } from '../shared/sql-statements.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { PipelineError, queryPipelineInTransaction, withTransaction, type PipelinedStatement, type PipelineRow } from '../server/connection.ts';
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

/**
 * Applies transactional files in one round trip: for each, BEGIN, its up statements, its tracking row and
 * COMMIT, all sent as one pipeline with a single Sync. The server runs them in order, each statement parsed
 * after the one before it ran, as when sent one by one. After an error it skips everything up to the Sync,
 * so no later file starts; the files before the failed one stay committed, and the count of completed
 * statements names the one that failed, so errors keep their file:line:col. `asynchronousCommit(i)` skips
 * waiting for file i's WAL flush (synchronous_commit off for the session from before that file's BEGIN,
 * reset before the first file that waits and at the end). Returns each file's duration on the server, in
 * milliseconds.
 */
export async function applyTransactionalFiles(
  client: pg.Client,
  files: readonly MigrationSource[],
  database: string,
  asynchronousCommit: (index: number) => boolean,
): Promise<number[]> {
  // What a lost connection shows of how far the batch got is the last answer flushed. Each of a file's own
  // statements but its last is flushed, and its COMMIT: all that arrived then says which statement ran, since
  // a file whose every statement but the last is done was running its last (or committing, see
  // statementFailed). BEGIN, the commit mode and the tracking row reach us with the answer after them. One
  // server write fewer per file than flushing every statement: about 8% of a batch of 1,000 two-statement
  // files here (docs/round-trips.md).
  const statements: PipelinedStatement[] = [];
  // The tracking insert is parsed and planned once per batch, then only bound to each file's values.
  const rowStatement = `pgstrap_history_row_${(preparedRows += 1)}`;
  // Session-wide for the batch rather than SET LOCAL in each file: one statement per batch, not per file.
  let asynchronous = false;
  const commitMode = (wanted: boolean): void => {
    if (wanted === asynchronous) return;
    statements.push({ text: wanted ? 'SET synchronous_commit TO off' : 'RESET synchronous_commit', flush: false });
    asynchronous = wanted;
  };
  const layout = files.map((source, i) => {
    commitMode(asynchronousCommit(i));
    const begin = statements.length;
    statements.push({ text: 'BEGIN', flush: false });
    const first = statements.length;
    statements.push(...source.up.map((s, k) => ({ text: s.text, flush: k < source.up.length - 1 })));
    const row = statements.length;
    statements.push({ ...appliedRowStatement(source), flush: false, prepare: rowStatement }, { text: 'COMMIT' });
    return { source, begin, first, row };
  });
  commitMode(false);
  statements.push({ text: `DEALLOCATE ${quoteIdent(rowStatement)}` });
  let results: PipelineRow[][];
  try {
    // A failed file's transaction is rolled back (or over, if its COMMIT failed); the rest never ran.
    results = await queryPipelineInTransaction(client, statements);
  } catch (error) {
    if (!(error instanceof PipelineError)) throw error;
    const failed = [...layout].reverse().find((f) => f.begin <= error.index);
    const index = failed === undefined ? -1 : error.index - failed.first;
    if (failed === undefined || index < 0 || index >= failed.source.up.length) throw error.serverError;
    const { source } = failed;
    throw statementFailed({ source, statement: source.up[index]!, index, total: source.up.length, direction: 'up', database }, serverError(error.serverError));
  }
  return layout.map((f) => Number(results[f.row]![0]?.duration_ms ?? 0));
}

/** How many batches have prepared their tracking insert in this process: each gets a name of its own. */
let preparedRows = 0;

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
    await applyTransactionalFiles(client, [source], database, () => options.asynchronousCommit ?? false);
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
