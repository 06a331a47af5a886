/** Server settings the declared extensions need (shared_preload_libraries and the like). */
import type { ResolvedConfig, ResolvedExtension } from '../config/types.ts';
import { CATALOGUE, findExtension, type CatalogueEntry } from './catalogue.ts';
import { listenSettings, OUTPUT_PLUGIN_SETTING, parseLibraryList, PRELOAD_SETTING } from '../server/conf.ts';

/** What pgstrap knows about a cluster it manages that changes what it writes for the extensions. */
export interface ClusterSettingFacts {
  /** The built-in value of output_plugin_libraries, or undefined when the server has no such setting. */
  outputPluginDefault: string | undefined;
}

/** Declared extensions the catalogue knows, with their entries, optionally only those `isInstalled` accepts. */
export function catalogued(
  extensions: readonly ResolvedExtension[],
  isInstalled?: (name: string) => boolean,
): Array<{ ext: ResolvedExtension; entry: CatalogueEntry }> {
  const result: Array<{ ext: ResolvedExtension; entry: CatalogueEntry }> = [];
  for (const ext of extensions) {
    const entry = findExtension(ext.name);
    if (entry && (isInstalled === undefined || isInstalled(ext.name))) result.push({ ext, entry });
  }
  return result;
}

/**
 * Settings implied by the config's extensions: their preload libraries merged after the config's own
 * shared_preload_libraries, their other settings, and the one database of single-database extensions.
 * `isInstalled` limits this to extensions the server's files have: preloading a library that is not
 * installed stops the server from starting. Without it, every declared extension counts.
 * Output plugins are added to output_plugin_libraries (after the config's value, else the server's default)
 * only when `cluster` says the server knows that setting. An entry's managedSettings come only with
 * `cluster`: pgstrap writes them on a cluster it manages and asks nothing of another server.
 */
export function settingsForExtensions(config: ResolvedConfig, isInstalled?: (name: string) => boolean, cluster?: ClusterSettingFacts): Record<string, string> {
  const result: Record<string, string> = {};
  const preload = parseLibraryList(config.settings[PRELOAD_SETTING]);
  const allowedDefault = cluster?.outputPluginDefault;
  const allowed = parseLibraryList(config.settings[OUTPUT_PLUGIN_SETTING] ?? allowedDefault);
  let allowedChanged = false;
  for (const { ext, entry } of catalogued(config.extensions, isInstalled)) {
    if (entry.preload !== undefined && !preload.includes(entry.preload)) preload.push(entry.preload);
    if (entry.kind === 'output-plugin' && allowedDefault !== undefined && !allowed.includes(entry.name)) {
      allowed.push(entry.name);
      allowedChanged = true;
    }
    Object.assign(result, entry.settings);
    if (cluster !== undefined) Object.assign(result, entry.managedSettings);
    // Validation guarantees one database for these (see extensionConfigProblems).
    if (entry.singleDatabaseSetting !== undefined && ext.databases.length === 1) result[entry.singleDatabaseSetting] = ext.databases[0]!;
  }
  if (preload.length > 0) result[PRELOAD_SETTING] = preload.join(',');
  // One string in the file, entries separated by commas: the server splits it into its list (an entry
  // written as one double-quoted string would stay one entry).
  if (allowedChanged) result[OUTPUT_PLUGIN_SETTING] = allowed.join(', ');
  return result;
}

/**
 * Every setting a server should have for this config: the config's own, then what the declared extensions
 * need (validation rules out conflicts; preloads are merged with the config's). With `cluster` (one pgstrap
 * manages), also where it listens and what pgstrap writes only there; see settingsForExtensions.
 */
export function desiredSettings(
  config: ResolvedConfig,
  isInstalled?: (name: string) => boolean,
  cluster?: { socketDir: string; listenHosts: readonly string[]; outputPluginDefault: string | undefined },
): Record<string, string> {
  const listen = cluster ? listenSettings(config.port, cluster.socketDir, cluster.listenHosts) : {};
  return { ...listen, ...config.settings, ...settingsForExtensions(config, isInstalled, cluster && { outputPluginDefault: cluster.outputPluginDefault }) };
}

/** For each setting the declared extensions need, which of them need it: the "why" of a settings change. */
export function settingReasons(config: ResolvedConfig): Record<string, string[]> {
  const reasons: Record<string, string[]> = {};
  const add = (setting: string, name: string) => (reasons[setting] ??= []).push(name);
  for (const { ext, entry } of catalogued(config.extensions)) {
    if (entry.preload !== undefined) add(PRELOAD_SETTING, ext.name);
    for (const setting of Object.keys(entry.settings)) add(setting, ext.name);
    if (entry.kind === 'output-plugin') add(OUTPUT_PLUGIN_SETTING, ext.name);
    for (const setting of Object.keys(entry.managedSettings ?? {})) add(setting, ext.name);
    if (entry.singleDatabaseSetting !== undefined) add(entry.singleDatabaseSetting, ext.name);
  }
  return reasons;
}

/** An extension the config no longer declares whose preload stays, because it is (or may be) installed. */
export interface RetainedExtension {
  name: string;
  /** The databases that have it installed; empty when the server was not running to ask. */
  databases: string[];
}

/**
 * Keeps, from the managed file, the preload (and the settings) of every catalogued extension the desired
 * settings would drop while it is installed in some database: unloading its library breaks it there
 * (pg_cron's jobs stop and cron.schedule errors). `inUse` maps installed extensions to their databases;
 * undefined when the server is down and cannot be asked, so everything preloaded now stays.
 * `isInstalled` keeps out a library the binaries no longer have (the server would not start).
 */
export function retainSettingsInUse(
  current: Readonly<Record<string, string>>,
  desired: Readonly<Record<string, string>>,
  inUse: ReadonlyMap<string, readonly string[]> | undefined,
  isInstalled: (name: string) => boolean,
): { settings: Record<string, string>; retained: RetainedExtension[] } {
  const wanted = parseLibraryList(desired[PRELOAD_SETTING]);
  const dropped = parseLibraryList(current[PRELOAD_SETTING]).filter((l) => !wanted.includes(l));
  const settings = { ...desired };
  const retained: RetainedExtension[] = [];
  for (const entry of CATALOGUE) {
    if (entry.preload === undefined || !dropped.includes(entry.preload) || !isInstalled(entry.name)) continue;
    const databases = inUse === undefined ? [] : inUse.get(entry.name);
    if (databases === undefined) continue;
    if (!wanted.includes(entry.preload)) wanted.push(entry.preload);
    const keys = [...Object.keys(entry.settings), ...Object.keys(entry.managedSettings ?? {}), entry.singleDatabaseSetting];
    for (const key of keys) if (key !== undefined && !(key in settings) && key in current) settings[key] = current[key]!;
    retained.push({ name: entry.name, databases: [...databases] });
  }
  if (retained.length > 0) settings[PRELOAD_SETTING] = wanted.join(',');
  return { settings, retained };
}

/** The setup note for a retained extension: why its preload stays and how to let it go. */
export function describeRetained(r: RetainedExtension): string {
  if (r.databases.length === 0) {
    return `${r.name} is no longer declared, but the server is not running to say whether a database still has it: its preload stays until setup can check`;
  }
  return `${r.name} is no longer declared, but ${r.databases.join(', ')} still ${r.databases.length === 1 ? 'has' : 'have'} it installed: its preload stays (DROP EXTENSION ${r.name} there first to let it go)`;
}
