/** Reads settings as a server has them in effect (pg_settings), for any role: what it may not read is marked hidden. */
import type pg from 'pg';
import { queryPipeline, type PipelinedStatement, type PipelineRow } from './connection.ts';
import { roleStatement, toRoleFacts } from './read-privileges.ts';
import type { RoleFacts } from './privileges.ts';
import type { ServerSetting } from './setting-values.ts';

/**
 * The settings `names` (lower case) in effect. pg_settings hides a superuser-only setting from a role without
 * pg_read_all_settings: such a name is marked hidden (unknown), not absent.
 */
export function settingsStatement(names: readonly string[]): PipelinedStatement {
  return {
    text: `SELECT n AS name, s.setting, s.unit, s.vartype, s.context, coalesce(s.pending_restart, false) AS pending_restart,
       s.name IS NULL AND position('.' in n) = 0 AND NOT pg_has_role('pg_read_all_settings', 'USAGE') AS hidden
  FROM unnest($1::text[]) AS n LEFT JOIN pg_settings s ON lower(s.name) = n`,
    values: [names.map((n) => n.toLowerCase())],
  };
}

/** The rows settingsStatement returned, one per name asked for, in the config's spelling. */
export function toServerSettings(names: readonly string[], rows: readonly PipelineRow[]): ServerSetting[] {
  type Row = { name: string; setting: string | null; unit: string | null; vartype: string | null; context: string | null; pending_restart: boolean; hidden: boolean };
  const byName = new Map((rows as Row[]).map((r) => [r.name.toLowerCase(), r]));
  return names.map((name) => {
    const row = byName.get(name.toLowerCase());
    return {
      name,
      setting: row?.setting ?? undefined,
      unit: row?.unit ?? undefined,
      vartype: row?.vartype ?? undefined,
      pendingRestart: row?.pending_restart ?? false,
      context: row?.context ?? undefined,
      hidden: row?.hidden ?? false,
    };
  });
}

/** The settings `names` and the role's standing for `databases`, in one round trip. */
export async function readSettingsAndRole(client: pg.Client, names: readonly string[], databases: readonly string[]): Promise<{ settings: ServerSetting[]; role: RoleFacts }> {
  const [settings, role] = await queryPipeline(client, [settingsStatement(names), roleStatement(databases)]);
  return { settings: toServerSettings(names, settings!), role: toRoleFacts(role!) };
}
