/** Server settings the declared extensions need (shared_preload_libraries and the like). */
import type { ResolvedConfig, ResolvedExtension } from './config/types.ts';
import { findExtension, type CatalogueEntry } from './extensions/catalogue.ts';

/** The setting that lists libraries loaded at server start. */
export const PRELOAD_SETTING = 'shared_preload_libraries';

/** Splits a shared_preload_libraries value (`'a, "b"'`) into library names. */
export function parseLibraryList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((part) => part.trim().replace(/^"(.*)"$/, '$1'))
    .filter((part) => part !== '');
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
 */
export function settingsForExtensions(config: ResolvedConfig, isInstalled?: (name: string) => boolean): Record<string, string> {
  const result: Record<string, string> = {};
  const preload = parseLibraryList(config.settings[PRELOAD_SETTING]);
  for (const { ext, entry } of catalogued(config.extensions, isInstalled)) {
    if (entry.preload !== undefined && !preload.includes(entry.preload)) preload.push(entry.preload);
    Object.assign(result, entry.settings);
    // Validation guarantees one database for these (see extensionConfigProblems).
    if (entry.singleDatabaseSetting !== undefined && ext.databases.length === 1) result[entry.singleDatabaseSetting] = ext.databases[0]!;
  }
  if (preload.length > 0) result[PRELOAD_SETTING] = preload.join(',');
  return result;
}

/** For each setting the declared extensions need, which of them need it: the "why" of a settings change. */
export function settingReasons(config: ResolvedConfig): Record<string, string[]> {
  const reasons: Record<string, string[]> = {};
  const add = (setting: string, name: string) => (reasons[setting] ??= []).push(name);
  for (const { ext, entry } of catalogued(config.extensions)) {
    if (entry.preload !== undefined) add(PRELOAD_SETTING, ext.name);
    for (const setting of Object.keys(entry.settings)) add(setting, ext.name);
    if (entry.singleDatabaseSetting !== undefined) add(entry.singleDatabaseSetting, ext.name);
  }
  return reasons;
}
