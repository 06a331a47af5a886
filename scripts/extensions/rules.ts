/**
 * Catalogue facts that make a config wrong before anything runs: an extension that works in one
 * database per cluster declared for several, or a setting that contradicts what an extension needs.
 */
import type { ResolvedExtension } from '../config/types.ts';
import { catalogued } from './settings.ts';

/** One problem, keyed like the config validator's (`extensions[2].databases`). */
export interface ExtensionConfigProblem {
  key: string;
  message: string;
}

/** Problems with `extensions` and `settings`; `keyOf` names an extension's config key (e.g. `extensions[2]`). */
export function extensionConfigProblems(
  extensions: readonly ResolvedExtension[],
  settings: Record<string, string>,
  keyOf: (name: string) => string,
): ExtensionConfigProblem[] {
  const problems: ExtensionConfigProblem[] = [];
  for (const { ext, entry } of catalogued(extensions)) {
    const key = keyOf(ext.name);
    const single = entry.singleDatabaseSetting;
    if (single !== undefined) {
      if (ext.databases.length > 1) {
        problems.push({
          key: `${key}.databases`,
          message: `${ext.name} works in one database per cluster (${single}), but it is declared for ${ext.databases.join(', ')}; list one, e.g. databases: ['${ext.databases[0]}']`,
        });
      } else if (settings[single] !== undefined && settings[single] !== ext.databases[0]) {
        problems.push({
          key: `settings.${single}`,
          message: `is "${settings[single]}", but ${ext.name} is declared for database "${ext.databases[0]}"; remove the setting (pgstrap sets it) or make them agree`,
        });
      }
    }
    for (const [name, needed] of Object.entries(entry.settings)) {
      const set = settings[name];
      if (set !== undefined && set !== needed) {
        problems.push({ key: `settings.${name}`, message: `is "${set}", but ${ext.name} needs "${needed}"; remove it (pgstrap sets it) or set "${needed}"` });
      }
    }
  }
  return problems;
}
