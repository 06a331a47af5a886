/** What a project's `extensions.config.ts` imports. */
export { defineConfig } from './config/types.ts';
export type { PgstrapConfig, ExtensionConfig, DatabaseConfig, MigrationsConfig, TargetConfig, UrlFromEnv } from './config/types.ts';
