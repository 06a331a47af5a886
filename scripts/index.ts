/** What a project's `extensions.config.ts` imports. */
export { defineConfig } from './core/config/types.ts';
export type { PgstrapConfig, ExtensionConfig, DatabaseConfig, MigrationsConfig } from './core/config/types.ts';
