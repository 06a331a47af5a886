/** Questions pgstrap asks a server about itself. */
import type pg from 'pg';
import type { DatabaseState } from './plan.ts';

/** The databases on the server, each with whether an interrupted DROP DATABASE left it invalid. */
export async function listDatabases(client: pg.Client): Promise<Map<string, DatabaseState>> {
  const { rows } = await client.query<{ datname: string; invalid: boolean }>('SELECT datname, datconnlimit = -2 AS invalid FROM pg_database');
  return new Map(rows.map((r) => [r.datname, { invalid: r.invalid }]));
}
