/** Database access only through scoped helpers, so no connection leaks. */
import pg from 'pg';
import { ExitCode, PgstrapError } from '../core/errors.ts';

/** How to reach one database: a socket directory or host, port, user, password. */
export type ConnectionTarget = pg.ClientConfig;

/** Opens a client, runs `fn`, and always closes it. */
export async function withClient<T>(target: ConnectionTarget, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionTimeoutMillis: 10_000, ...target });
  try {
    await client.connect();
  } catch (error) {
    throw new PgstrapError({
      code: 'db.connect-failed',
      message: `cannot connect to ${describeTarget(target)}: ${(error as Error).message}`,
      remedy: 'Is the server running? npm run db:status shows it; npm run doctor explains what is wrong.',
      exit: ExitCode.cluster,
      cause: error,
    });
  }
  // A dropped connection must not crash the process; the pending query rejects instead.
  client.on('error', () => {});
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => {});
  }
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

/** A URL with its password replaced by ***. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return url.replace(/:\/\/([^:@/]+):[^@/]*@/, '://$1:***@');
  }
}
