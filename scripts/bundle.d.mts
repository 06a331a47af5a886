/** Where a project keeps its bundles: node_modules/.cache/pgstrap. */
export declare function cacheDirOf(projectDir: string): string;
/** Packages an inlined bundle still imports from node_modules (`@scope/*` for a whole scope). */
export declare const KEPT_EXTERNAL: readonly string[];
/**
 * The path of an up-to-date ESM bundle of `entry` (absolute) in `cacheDir`, rebuilt only when one of its sources
 * changed; `inline` bundles the packages it imports too, all but KEPT_EXTERNAL.
 */
export declare function ensureBundle(entry: string, cacheDir: string, options?: { inline?: boolean }): Promise<string>;
/**
 * The `code` of the error ensureBundle throws when it would fall back to a cache folder in the temporary
 * directory that is not this user's own (another user's, a symbolic link, open to others); it carries a `remedy`.
 */
export declare const UNSAFE_CACHE: 'PGSTRAP_UNSAFE_CACHE';
