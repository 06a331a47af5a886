/** Where a project keeps its bundles: node_modules/.cache/pgstrap. */
export declare function cacheDirOf(projectDir: string): string;
/** The path of an up-to-date ESM bundle of `entry` (absolute) in `cacheDir`, rebuilt only when one of its sources changed. */
export declare function ensureBundle(entry: string, cacheDir: string): Promise<string>;
