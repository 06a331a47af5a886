/** Questions pgstrap asks a server about itself. */
import type pg from 'pg';

/** Names of the databases on the server. */
export async function listDatabases(client: pg.Client): Promise<Set<string>> {
  const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database');
  return new Set(rows.map((r) => r.datname));
}

/** Context of each named server setting (e.g. `postmaster` for those that need a restart). */
export async function settingContexts(client: pg.Client): Promise<Map<string, { context: string; type: string }>> {
  const { rows } = await client.query<{ name: string; context: string; vartype: string }>('SELECT name, context, vartype FROM pg_settings');
  return new Map(rows.map((r) => [r.name, { context: r.context, type: r.vartype }]));
}
