/** What a server and a database say about extensions; values always as parameters. */
import type pg from 'pg';
import type { ResolvedExtension } from '../config/types.ts';
import { messageOf } from '../shared/errors.ts';
import { queryPipeline, SERVER_VERSION, toServerVersion, type PipelinedStatement, type PipelineRow } from '../server/connection.ts';
import { describeEngine, maintenanceDatabase, type Target } from '../server/target.ts';
import { roleStatement, toRoleFacts } from '../server/read-privileges.ts';
import type { RoleFacts } from '../server/privileges.ts';
import { findExtension } from './catalogue.ts';
import { neededSettingNames, type ServerExtensionFacts } from './plan.ts';

/** What the extension planner reads server-wide. */
export interface ServerExtensionState {
  available: Map<string, string>;
  versions: Map<string, string[]>;
  settings: Record<string, string | undefined>;
  /** Settings the role may not read (superuser-only ones, without pg_read_all_settings): their value is unknown. */
  unreadable: string[];
  /** Whether the version CREATE EXTENSION would make (pinned, else default) is trusted, per declared name the server has. */
  trusted: Map<string, boolean>;
}

const AVAILABLE_SQL = 'SELECT name, default_version FROM pg_available_extensions';
/**
 * The view reads every control file and update script whatever the WHERE says (8 ms here, against 2 ms for
 * pg_available_extensions): the one-time EXISTS guard skips it where none of the declared names is available,
 * as on the embedded engine's contrib-only builds.
 */
const VERSIONS_SQL = `SELECT name, version, trusted FROM pg_available_extension_versions
  WHERE name = ANY($1::text[]) AND EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = ANY($1::text[]))`;
/**
 * Each setting's value where the role may read it. pg_settings hides a superuser-only setting (shared_preload_libraries)
 * from a role without pg_read_all_settings, and current_setting() would fail on it: such a name is reported hidden
 * instead of read. Names with a dot are extensions' own settings (placeholders until loaded), never hidden.
 */
const SETTINGS_SQL = `SELECT n AS name, CASE WHEN r.readable THEN current_setting(n, true) END AS value, NOT r.readable AS hidden
  FROM unnest($1::text[]) AS n
  CROSS JOIN LATERAL (SELECT pg_has_role('pg_read_all_settings', 'USAGE') OR position('.' in n) > 0
                          OR EXISTS (SELECT 1 FROM pg_settings s WHERE lower(s.name) = lower(n)) AS readable) r`;

/**
 * The available extensions, the versions of `pinned` and the values of `settingNames`, after `first`
 * (e.g. the server version), all in one round trip; `first`'s rows are returned as they came.
 */
export async function readServerExtensionState(
  client: pg.Client,
  declared: ReadonlyArray<{ name: string; version?: string | undefined }>,
  settingNames: readonly string[],
  first: readonly PipelinedStatement[] = [],
): Promise<ServerExtensionState & { first: PipelineRow[][] }> {
  const results = await queryPipeline(client, [
    ...first,
    { text: AVAILABLE_SQL },
    { text: VERSIONS_SQL, values: [declared.map((e) => e.name)] },
    { text: SETTINGS_SQL, values: [settingNames] },
  ]);
  const [availableRows, versions, settings] = results.slice(first.length) as [PipelineRow[], PipelineRow[], PipelineRow[]];
  const available = new Map((availableRows as Array<{ name: string; default_version: string }>).map((r) => [r.name, r.default_version]));
  const versionMap = new Map<string, string[]>();
  const trustedOf = new Map<string, boolean>();
  for (const r of versions as Array<{ name: string; version: string; trusted: boolean }>) {
    versionMap.set(r.name, [...(versionMap.get(r.name) ?? []), r.version]);
    trustedOf.set(`${r.name}@${r.version}`, r.trusted);
  }
  const trusted = new Map<string, boolean>();
  for (const ext of declared) {
    const value = trustedOf.get(`${ext.name}@${ext.version ?? available.get(ext.name)}`);
    if (value !== undefined) trusted.set(ext.name, value);
  }
  const settingRows = settings as Array<{ name: string; value: string | null; hidden: boolean }>;
  return {
    first: results.slice(0, first.length),
    available,
    // Only pinned extensions' versions are the planner's business.
    versions: new Map([...versionMap].filter(([name]) => declared.some((e) => e.name === name && e.version !== undefined))),
    settings: Object.fromEntries(settingRows.map((r) => [r.name, r.value ?? undefined])),
    unreadable: settingRows.filter((r) => r.hidden).map((r) => r.name),
    trusted,
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
 * `serverDatabase` (the maintenance database unless the caller has a session open elsewhere: every database
 * answers these alike); each output plugin is then proved with a slot in `slotDatabase(ext)` (by
 * default the first database it is declared for: a logical slot belongs to one), unless wal_level rules
 * logical decoding out.
 */
export async function readServerFacts(
  target: Target,
  declared: readonly ResolvedExtension[],
  on: OnDatabase,
  slotDatabase: (ext: ResolvedExtension) => string = (ext) => ext.databases[0]!,
  serverDatabase: string = maintenanceDatabase(target),
): Promise<ServerExtensionFacts & { version: string; versionNum: number; role: RoleFacts }> {
  const databases = target.databases.map((d) => d.name);
  const state = await on(serverDatabase, (client) => readServerExtensionState(client, declared, neededSettingNames(declared), [SERVER_VERSION, roleStatement(databases)]));
  const { version, versionNum, major } = toServerVersion(state.first[0]!);
  const role = toRoleFacts(state.first[1]!);
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
  const { available, versions, settings, unreadable, trusted } = state;
  return { kind: target.kind, label, major, available, versions, settings, unreadable: new Set(unreadable), trusted, role, outputPlugins, version, versionNum };
}
