/** Whether an installation's files provide a declared extension: pure, over lists read elsewhere. */
import { findExtension } from './catalogue.ts';

/** Names an installation holds: control files (extensions) and loadable libraries. */
export interface InstalledNames {
  extensions: ReadonlySet<string>;
  libraries: ReadonlySet<string>;
}

/**
 * A predicate for settingsForExtensions and the required-extension check: an extension needs its
 * control file and, when it is preloaded, its library; an output plugin needs its library.
 */
export function installedChecker(files: InstalledNames): (name: string) => boolean {
  return (name) => {
    const entry = findExtension(name);
    if (entry?.kind === 'output-plugin') return files.libraries.has(name);
    if (!files.extensions.has(name)) return false;
    return entry?.preload === undefined || files.libraries.has(entry.preload);
  };
}
