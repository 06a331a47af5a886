/** Questions pgstrap asks a server about itself. */
import type pg from 'pg';

/** Names of the databases on the server. */
export async function listDatabases(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
  return new Set(rows.map((r) => r.datname));
}
