/** Where a project keeps its bundles: node_modules/.cache/pgstrap. */
export declare function cacheDirOf(projectDir: string): string;
/** Packages an inlined bundle still imports from node_modules (`@scope/*` for a whole scope). */
export declare const KEPT_EXTERNAL: readonly string[];
/**
 * The path of an up-to-date ESM bundle of `entry` (absolute) in `cacheDir`, rebuilt only when one of its sources
 * changed; `inline` bundles the packages it imports too, all but KEPT_EXTERNAL.
 */
export declare function ensureBundle(entry: string, cacheDir: string, options?: { inline?: boolean }): Promise<string>;
