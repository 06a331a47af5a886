/** What a server and a database say about extensions; values always as parameters. */
import type pg from 'pg';
import { messageOf } from '../core/errors.ts';

/** pg_available_extensions: name -> default version. */
export async function readAvailableExtensions(client: pg.Client): Promise<Map<string, string>> {
  const { rows } = await client.query<{ name: string; default_version: string }>('SELECT name, default_version FROM pg_available_extensions');
  return new Map(rows.map((r) => [r.name, r.default_version]));
}

/** pg_available_extension_versions for `names`: name -> versions. */
export async function readAvailableVersions(client: pg.Client, names: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (names.length === 0) return result;
  const { rows } = await client.query<{ name: string; version: string }>(
    'SELECT name, version FROM pg_available_extension_versions WHERE name = ANY($1::text[])',
    [names],
  );
  for (const r of rows) result.set(r.name, [...(result.get(r.name) ?? []), r.version]);
  return result;
}

/** pg_extension of the connected database: name -> version, schema and the extensions it requires. */
export async function readInstalledExtensions(client: pg.Client): Promise<Map<string, { version: string; schema: string; requires: string[] }>> {
  const { rows } = await client.query<{ extname: string; extversion: string; nspname: string; requires: string[] }>(
    `SELECT e.extname, e.extversion, n.nspname,
            ARRAY(SELECT x.extname FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
                   WHERE d.classid = 'pg_extension'::regclass AND d.objid = e.oid AND d.refclassid = 'pg_extension'::regclass) AS requires
       FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace`,
  );
  return new Map(rows.map((r) => [r.extname, { version: r.extversion, schema: r.nspname, requires: r.requires }]));
}

/** Current values of `names` (undefined for a setting the server does not know, e.g. an unloaded library's). */
export async function readSettingValues(client: pg.Client, names: string[]): Promise<Record<string, string | undefined>> {
  if (names.length === 0) return {};
  const { rows } = await client.query<{ name: string; value: string | null }>(
    'SELECT name, current_setting(name, true) AS value FROM unnest($1::text[]) AS name',
    [names],
  );
  return Object.fromEntries(rows.map((r) => [r.name, r.value ?? undefined]));
}

/**
 * Proves a logical decoding output plugin works by creating and dropping a temporary logical slot
 * with it (a plugin is no CREATE EXTENSION). Returns undefined when it works, else the server's reason.
 */
export async function checkOutputPlugin(client: pg.Client, plugin: string): Promise<string | undefined> {
  const slot = `pgstrap_check_${process.pid}_${Date.now() % 100000}`;
  try {
    await client.query('SELECT pg_create_logical_replication_slot($1, $2, true)', [slot, plugin]);
    await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}
