/** Extension declarations restated for the databases a target manages. */
import type { ResolvedConfig, ResolvedExtension } from '../config/types.ts';

/**
 * The declarations in terms of `databases` (the target's): an external URL that names a database
 * manages it with the declaration of the configured database of that name, else the first one's.
 */
export function declaredForTarget(config: ResolvedConfig, databases: readonly { name: string }[]): ResolvedExtension[] {
  const standsFor = (name: string) => (config.databases.some((d) => d.name === name) ? name : config.databases[0]?.name);
  return config.extensions
    .map((ext) => ({ ...ext, databases: databases.map((d) => d.name).filter((name) => ext.databases.includes(standsFor(name) ?? '')) }))
    .filter((ext) => ext.databases.length > 0);
}
