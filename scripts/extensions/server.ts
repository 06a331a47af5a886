/** What a server and a database say about extensions; values always as parameters. */
import type pg from 'pg';
import type { ResolvedExtension } from '../config/types.ts';
import { messageOf } from '../shared/errors.ts';
import { queryPipeline, SERVER_VERSION, toServerVersion, type PipelinedStatement, type PipelineRow } from '../server/connection.ts';
import { describeEngine, maintenanceDatabase, type Target } from '../server/target.ts';
import { findExtension } from './catalogue.ts';
import { neededSettingNames, type ServerExtensionFacts } from './plan.ts';

/** What the extension planner reads server-wide. */
export interface ServerExtensionState {
  available: Map<string, string>;
  versions: Map<string, string[]>;
  settings: Record<string, string | undefined>;
}

const AVAILABLE_SQL = 'SELECT name, default_version FROM pg_available_extensions';
const VERSIONS_SQL = 'SELECT name, version FROM pg_available_extension_versions WHERE name = ANY($1::text[])';
const SETTINGS_SQL = 'SELECT name, current_setting(name, true) AS value FROM unnest($1::text[]) AS name';

/**
 * The available extensions, the versions of `pinned` and the values of `settingNames`, after `first`
 * (e.g. the server version), all in one round trip; `first`'s rows are returned as they came.
 */
export async function readServerExtensionState(
  client: pg.Client,
  pinned: readonly string[],
  settingNames: readonly string[],
  first: readonly PipelinedStatement[] = [],
): Promise<ServerExtensionState & { first: PipelineRow[][] }> {
  const results = await queryPipeline(client, [
    ...first,
    { text: AVAILABLE_SQL },
    { text: VERSIONS_SQL, values: [pinned] },
    { text: SETTINGS_SQL, values: [settingNames] },
  ]);
  const [available, versions, settings] = results.slice(first.length) as [PipelineRow[], PipelineRow[], PipelineRow[]];
  const versionMap = new Map<string, string[]>();
  for (const r of versions as Array<{ name: string; version: string }>) versionMap.set(r.name, [...(versionMap.get(r.name) ?? []), r.version]);
  return {
    first: results.slice(0, first.length),
    available: new Map((available as Array<{ name: string; default_version: string }>).map((r) => [r.name, r.default_version])),
    versions: versionMap,
    settings: Object.fromEntries((settings as Array<{ name: string; value: string | null }>).map((r) => [r.name, r.value ?? undefined])),
  };
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

/**
 * Proves a logical decoding output plugin works by creating and dropping a temporary logical slot
 * with it (a plugin is no CREATE EXTENSION). Returns undefined when it works, else the server's reason.
 */
export async function probeOutputPlugin(client: pg.Client, plugin: string): Promise<string | undefined> {
  const slot = `pgstrap_check_${process.pid}_${Date.now() % 100000}`;
  try {
    await client.query('SELECT pg_create_logical_replication_slot($1, $2, true)', [slot, plugin]);
    await client.query('SELECT pg_drop_replication_slot($1)', [slot]);
    return undefined;
  } catch (error) {
    return messageOf(error);
  }
}

/** Runs `fn` on a connection to `database`: the caller decides which (a run's sessions, or doctor's one client). */
export type OnDatabase = <T>(database: string, fn: (client: pg.Client) => Promise<T>) => Promise<T>;

/**
 * The server-wide facts the extension planner needs, and the server's version, read in one round trip on
 * the maintenance database; each output plugin is then proved with a slot in `slotDatabase(ext)` (by
 * default the first database it is declared for: a logical slot belongs to one), unless wal_level rules
 * logical decoding out.
 */
export async function readServerFacts(
  target: Target,
  declared: readonly ResolvedExtension[],
  on: OnDatabase,
  slotDatabase: (ext: ResolvedExtension) => string = (ext) => ext.databases[0]!,
): Promise<ServerExtensionFacts & { version: string; versionNum: number }> {
  const pinned = declared.filter((e) => e.version !== undefined).map((e) => e.name);
  const state = await on(maintenanceDatabase(target), (client) => readServerExtensionState(client, pinned, neededSettingNames(declared), [SERVER_VERSION]));
  const { version, versionNum, major } = toServerVersion(state.first[0]!);
  const outputPlugins = new Map<string, string | undefined>();
  for (const ext of declared.filter((e) => findExtension(e.name)?.kind === 'output-plugin')) {
    const wal = state.settings.wal_level;
    if (wal !== undefined && wal !== 'logical') {
      outputPlugins.set(ext.name, `wal_level is "${wal}"; logical decoding needs "logical"`);
      continue;
    }
    outputPlugins.set(ext.name, await on(slotDatabase(ext), (c) => probeOutputPlugin(c, ext.name)));
  }
  const label = target.kind === 'external' ? `${describeEngine(target)} (PostgreSQL ${version})` : describeEngine(target);
  return { kind: target.kind, label, major, available: state.available, versions: state.versions, settings: state.settings, outputPlugins, version, versionNum };
}
