/**
 * What an app's `extensions.config.ts` imports from 'pgstrap': plain JavaScript, so Node loads it from
 * node_modules without a TypeScript loader, with its types in index.d.mts (no pgstrap source reaches the
 * app's tsc). This repository's own config imports scripts/index.ts, the same function.
 */

/** Typed helper for `extensions.config.ts`; returns its argument. */
export function defineConfig(config) {
  return config;
}
