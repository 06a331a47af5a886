/** What a project's `extensions.config.ts` imports. */
export { defineConfig } from './config/types.ts';
export type { PgstrapConfig, ExtensionConfig, DatabaseConfig, MigrationsConfig } from './config/types.ts';
