/**
 * The bench's footprint on a server: one schema it creates and proves it owns, the connections it opens,
 * and a clean-up that runs once, whether the run ends, fails or is interrupted (Ctrl-C).
 */
import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ExitCode, PgstrapError, messageOf } from '../shared/errors.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import {
  OUTSIDE_DEPENDENTS_SQL,
  SCHEMA_COMMENT_SQL,
  benchSchemaName,
  createSchemaSql,
  dropSchemaSql,
  ownershipComment,
} from './sql.ts';
import { withClient, type ConnectionTarget } from '../server/connection.ts';

/** Ends this run's other backends and waits until they are gone ($1: the run's application_name). */
const TERMINATE_RUN_SQL = `SELECT pg_terminate_backend(pid, 10000) FROM pg_stat_activity
WHERE application_name = $1 AND pid <> pg_backend_pid() AND datname = current_database()`;

/** A bench run's schema on one database, and how to remove it again. */
export class BenchSession {
  /** `pgstrap_bench_<pid>_<hex>`: unique to this process and run. */
  readonly schema: string;
  /** Extensions this run created (pgstattuple); dropped before the schema. */
  readonly createdExtensions: string[] = [];
  /** Where the bench connects; every connection carries the schema's name as its application_name. */
  readonly connection: ConnectionTarget;
  private readonly admin: ConnectionTarget;
  private created = false;
  private cleaning: Promise<void> | undefined;

  constructor(connection: ConnectionTarget, token = randomBytes(3).toString('hex')) {
    this.schema = benchSchemaName(process.pid, token);
    // The name marks this run's backends (pg and pgbench alike), so an interrupt can end exactly those.
    this.connection = { ...connection, application_name: this.schema };
    this.admin = { ...connection, application_name: 'pgstrap-bench-cleanup' };
  }

  /** Creates the schema; fails when one of that name exists, since it would not be ours. */
  async create(): Promise<void> {
    // One simple-protocol query is one implicit transaction: the schema never exists without its mark.
    await withClient(this.admin, (client) => client.query(createSchemaSql(this.schema).join(';\n')));
    this.created = true;
  }

  /** Opens a client marked as this run's, so an interrupt can end its statement. */
  withClient<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
    return withClient(this.connection, fn);
  }

  /** Drops what this run created; safe to call more than once and from a signal handler. */
  cleanup(): Promise<void> {
    this.cleaning ??= this.drop();
    return this.cleaning;
  }

  private async drop(): Promise<void> {
    if (!this.created) return;
    await withClient(this.admin, async (client) => {
      // A running bulk load holds locks the DROP would wait for: end this run's own statements first.
      await client.query(TERMINATE_RUN_SQL, [this.schema]);
      const comment = (await client.query<{ comment: string | null }>(SCHEMA_COMMENT_SQL, [this.schema])).rows[0];
      if (!comment) return;
      if (comment.comment !== ownershipComment(this.schema)) {
        throw new PgstrapError({
          code: 'bench.not-ours',
          message: `refusing to drop schema ${this.schema}: its comment does not mark it as this run's`,
          remedy: 'Someone changed or replaced it; inspect it and drop it yourself if it is a leftover.',
          exit: ExitCode.database,
        });
      }
      const outside = (await client.query<{ n: number }>(OUTSIDE_DEPENDENTS_SQL, [this.schema])).rows[0]!.n;
      if (outside > 0) {
        throw new PgstrapError({
          code: 'bench.dependents',
          message: `refusing to drop schema ${this.schema}: ${outside} object(s) outside it depend on its tables`,
          remedy: `Those objects are not the bench's; drop them, then DROP SCHEMA ${quoteIdent(this.schema)} CASCADE.`,
          exit: ExitCode.database,
        });
      }
      for (const name of this.createdExtensions) await client.query(`DROP EXTENSION IF EXISTS ${quoteIdent(name)}`);
      await client.query(dropSchemaSql(this.schema));
    });
    this.created = false;
  }
}

/**
 * Runs `fn` with a session and always cleans up: on success, on a failed step, and on SIGINT/SIGTERM
 * (clean-up first, then exit 130/143 as a shell expects).
 */
export async function withBenchSession<T>(connection: ConnectionTarget, fn: (session: BenchSession) => Promise<T>): Promise<T> {
  const session = new BenchSession(connection);
  const onSignal = (signal: NodeJS.Signals) => {
    process.stderr.write(`\n${signal}: dropping ${session.schema} before exiting\n`);
    session
      .cleanup()
      .catch((error) => process.stderr.write(`clean-up failed: ${messageOf(error)}\n`))
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await session.create();
    let result: T;
    try {
      result = await fn(session);
    } catch (error) {
      // The step's error is the one to show; a clean-up failure on top of it is only reported.
      await session.cleanup().catch((cleanupError) => process.stderr.write(`clean-up failed: ${messageOf(cleanupError)}\n`));
      throw error;
    }
    await session.cleanup();
    return result;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
