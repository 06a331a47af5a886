/** Where a project keeps its bundles: node_modules/.cache/pgstrap. */
export declare function cacheDirOf(projectDir: string): string;
/** Packages an inlined bundle still imports from node_modules (`@scope/*` for a whole scope). */
export declare const KEPT_EXTERNAL: readonly string[];
/**
 * `import()` for code that may run inside an inlined bundle (loadBundle hands it the host's import(), which a
 * script compiled from V8's code cache has lost on Node 20); import() itself elsewhere.
 */
export declare function importModule(specifier: string): Promise<Record<string, unknown>>;
/**
 * Runs an inlined (CommonJS) bundle, compiled with V8's code cache kept beside it under `profile`, and returns its
 * exports; `importer` serves importModule inside it (bundle.mjs's own import() by default).
 */
export declare function loadBundle(bundle: string, options: { profile: string; importer?: (specifier: string) => Promise<unknown> }): Record<string, any>;
/**
 * The path of an up-to-date bundle of `entry` (absolute) in `cacheDir`, rebuilt only when one of its sources
 * changed: an ES module, or with `inline` one minified CommonJS file (for loadBundle) holding the packages it
 * imports too, all but KEPT_EXTERNAL; `readable` leaves that file unminified.
 */
export declare function ensureBundle(entry: string, cacheDir: string, options?: { inline?: boolean; readable?: boolean }): Promise<string>;
/**
 * The `code` of the error ensureBundle throws when it would fall back to a cache folder in the temporary
 * directory that is not this user's own (another user's, a symbolic link, open to others); it carries a `remedy`.
 */
export declare const UNSAFE_CACHE: 'PGSTRAP_UNSAFE_CACHE';
