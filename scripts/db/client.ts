/** Database access only through scoped helpers, so no connection leaks. */
import pg from 'pg';
import { ExitCode, PgstrapError } from '../core/errors.ts';
import { redactUrl } from '../core/secrets.ts';

/** How to reach one database: a socket directory or host, port, user, password. */
export type ConnectionTarget = pg.ClientConfig;

/** Opens a client, runs `fn`, and always closes it. */
export async function withClient<T>(target: ConnectionTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, ...target });
  try {
    await client.connect();
  } catch (error) {
    throw connectError(target, error);
  }
  // A dropped connection must not crash the process; the pending query rejects instead.
  client.on('error', () => {});
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
}

/** A connect failure with the remedy that fits its cause (no server, no database, wrong password). */
function connectError(target: ConnectionTarget, error: unknown): PgstrapError {
  const code = (error as { code?: string }).code;
  const base = { message: `cannot connect to ${describeTarget(target)}: ${(error as Error).message}`, exit: ExitCode.cluster, cause: error };
  if (code === '3D000') {
    return new PgstrapError({ ...base, code: 'db.missing-database', remedy: 'npm run setup creates the configured databases (for an external server, create it or use a URL without a database).' });
  }
  if (code === '28P01' || code === '28000') {
    return new PgstrapError({ ...base, code: 'db.auth-failed', remedy: 'Check the user and password in the URL; for the local cluster, .pgstrap/password holds the superuser password.' });
  }
  return new PgstrapError({ ...base, code: 'db.connect-failed', remedy: 'Is the server running? npm run db:status shows it; npm run doctor explains what is wrong.' });
}

/** Runs `fn` in a transaction: COMMIT on success, ROLLBACK on any error. */
export async function withTransaction<T>(client: pg.Client, fn: () => Promise<T>): Promise<T> {
  await client.query('BEGIN');
  try {
    const result = await fn();
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  }
}

/** Where a target points, without its password. */
export function describeTarget(target: ConnectionTarget): string {
  if (target.connectionString) return redactUrl(target.connectionString);
  return `${target.user ?? ''}@${target.host ?? 'localhost'}:${target.port ?? 5432}/${target.database ?? ''}`;
}

