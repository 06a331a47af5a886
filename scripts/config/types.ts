/** The shape of `extensions.config.ts`: what a team writes, and what pgstrap resolves it to. */

/**
 * Where the SQL fallback's 62 random bits come from. Native uuidv7() and pg_uuidv7 always use the
 * server's cryptographic generator, and so does the fallback by default:
 * - `strong` (default): half of a gen_random_uuid() (the cryptographic generator, as RFC 9562 section 6.9
 *   asks), so ids cannot be guessed from earlier ones. It pays for gen_random_uuid() and then for the layout.
 * - `fast` (opt-in): two draws of random(), the server's per-connection generator (seeded from the
 *   operating system's cryptographic source when the connection starts, xoshiro256** from PostgreSQL 15).
 *   Generation costs about what gen_random_uuid() does. Ids are unique and in order, but someone who sees
 *   enough ids made by one connection could predict that connection's next ones.
 */
export type FallbackRandom = 'fast' | 'strong';
export const FALLBACK_RANDOM_CHOICES: readonly FallbackRandom[] = ['fast', 'strong'];
/** The fallback's random bits when uuidv7.fallbackRandom is not set. */
export const DEFAULT_FALLBACK_RANDOM: FallbackRandom = 'strong';

/**
 * Which generator uuidv7() calls where the database has pg_uuidv7 (PostgreSQL 13-17; 18 is always native):
 * `fallback`, pgstrap's SQL function, in order within a session, so bulk inserts fill the primary-key index
 * in order; or `pg_uuidv7`, the extension's C function, cheaper to call but random within a millisecond.
 */
export type Uuidv7Generator = 'fallback' | 'pg_uuidv7';
/** Every uuidv7.generator value. */
export const UUIDV7_GENERATOR_CHOICES: readonly Uuidv7Generator[] = ['fallback', 'pg_uuidv7'];
/** The generator when uuidv7.generator is not set (README, "Which generator where pg_uuidv7 is installed"). */
export const DEFAULT_UUIDV7_GENERATOR: Uuidv7Generator = 'fallback';

/** Every `engine` value: how pgstrap finds the server it manages. */
export const ENGINE_CHOICES = ['auto', 'system', 'embedded', 'external'] as const;
/** How pgstrap finds the server it manages. */
export type EngineChoice = (typeof ENGINE_CHOICES)[number];
/** The kind of server a target is: one pgstrap runs (`system`, `embedded`) or one reached by URL. */
export type ServerKind = Exclude<EngineChoice, 'auto'>;
/** The kinds of server pgstrap runs itself. */
export type ManagedKind = Exclude<ServerKind, 'external'>;

/** A database the project owns. */
export interface DatabaseConfig {
  /** Database name: a plain SQL identifier of at most 63 bytes. */
  name: string;
  /** Migrations for this database only; defaults to the top-level `migrations`. */
  migrations?: MigrationsConfig;
  /** Seeds for this database only; defaults to the top-level `seeds`. */
  seeds?: SeedsConfig;
}

/** Seed data: SQL files applied in name order by `db:reset`, `db:seed` and test templates. */
export interface SeedsConfig {
  /** Folder of `.sql` files, relative to the config file. Default `seeds`. */
  directory?: string;
}

/** An extension to enable. */
export interface ExtensionConfig {
  /** The `CREATE EXTENSION` name (e.g. `vector`, not `pgvector`). */
  name: string;
  /** A required extension the server lacks stops setup; an optional one is a warning. Default true. */
  required?: boolean;
  /** Databases to enable it in; default: every database. */
  databases?: string[];
  /** Schema to create it in; default: the server's choice (usually `public`). */
  schema?: string;
  /** Pin a version (`ALTER EXTENSION ... UPDATE TO`); default: the server's default version. */
  version?: string;
}

/** How schema changes are applied. */
export interface MigrationsConfig {
  /** Folder of `<version>_<name>.sql` files, relative to the config file. Default `migrations`. */
  directory?: string;
  /** Run the built-in SQL runner. Default true. */
  builtIn?: boolean;
  /** The app's own migrator, run per database after the built-in runner, e.g. `npx prisma migrate deploy`. */
  command?: string | string[];
  /**
   * The app's migrator's status command, run per database by `migrate:status` (e.g. `npx prisma migrate status`):
   * a non-zero exit means not up to date, and migrate:status exits 6. Needs `command`.
   */
  statusCommand?: string | string[];
}

/** How uuidv7() is provided. */
export interface Uuidv7Config {
  /**
   * Where the SQL fallback (PostgreSQL 13-17) takes its 62 random bits. `strong` (default):
   * gen_random_uuid(), unguessable. `fast` (opt-in): random(), cheaper; unique and in order, but someone
   * who sees enough of one connection's ids could predict its next ones. Native uuidv7() and pg_uuidv7
   * are always strong.
   */
  fallbackRandom?: FallbackRandom;
  /**
   * Which generator uuidv7() calls where the database has pg_uuidv7 (13-17): `fallback` (default), the
   * SQL fallback, in order within a session; or `pg_uuidv7`, the extension's uuid_generate_v7().
   */
  generator?: Uuidv7Generator;
}

/** A URL the config names by the environment variable that holds it, so no secret is committed. */
export interface UrlFromEnv {
  env: string;
}

/** A named server (`--target NAME`): staging, production. */
export interface TargetConfig {
  /** `{ env: 'STAGING_DATABASE_URL' }`, or a URL without a password. */
  url: UrlFromEnv | string;
  /** The server without a pooler in between, for migrations (Prisma's directUrl), when `url` goes through PgBouncer. */
  directUrl?: UrlFromEnv | string;
}

/** Where a target's URL comes from, after validation. */
export type UrlSource = { env: string } | { value: string };

/** A target after validation. */
export interface ResolvedTarget {
  name: string;
  url: UrlSource;
  directUrl: UrlSource | undefined;
}

/** What a team writes in `extensions.config.ts`. Every field has a default. */
export interface PgstrapConfig {
  /** PostgreSQL major version. Default 17. */
  postgresMajor?: number;
  /** `auto` uses a system PostgreSQL of the right major (e.g. from `nix develop`), else the embedded one. */
  engine?: EngineChoice;
  /** Server URL for the `external` engine. Prefer `--url` or `PGSTRAP_URL` so secrets stay out of git. */
  url?: string;
  /** TCP port on 127.0.0.1. Default: 25000-25999, derived from the project's folder (two projects do not collide), clear of 5432. */
  port?: number;
  /** Superuser the cluster is initialised with. Default `postgres`. */
  superuser?: string;
  /** Folder for all runtime state (data, sockets, logs, password), relative to the config file. Default `.pgstrap`. */
  stateDir?: string;
  /** Data directory. Default `<stateDir>/data`. */
  dataDir?: string;
  /** Unix socket directory. Default `<stateDir>/run`, or a short path under /tmp when that is too long. */
  socketDir?: string;
  /** When run as root: the user the server runs as. Default `postgres` if it exists, else `nobody`. */
  runAs?: string;
  /** Databases to create. Default `['app']`. */
  databases?: Array<string | DatabaseConfig>;
  /** Extensions to enable; a bare name is a required extension in every database. */
  extensions?: Array<string | ExtensionConfig>;
  /** postgresql.conf settings, written to a managed file in the data directory. */
  settings?: Record<string, string | number | boolean>;
  /** Migrations applied to every database. */
  migrations?: MigrationsConfig;
  /** uuidv7() options. */
  uuidv7?: Uuidv7Config;
  /** Named servers for `--target NAME`, each URL read from an environment variable. */
  targets?: Record<string, TargetConfig>;
  /** Seed files applied to every database by `db:reset`, `db:seed` and test templates. */
  seeds?: SeedsConfig;
}

/** A database after defaults. */
export interface ResolvedDatabase {
  name: string;
  migrations: ResolvedMigrations;
  /** Absent in configs made before seeds existed: read it with seedsOf (seeds/source.ts). */
  seeds?: ResolvedSeeds;
}

/** Seeds after defaults, with an absolute directory. */
export interface ResolvedSeeds {
  directory: string;
  /** The config key that named `directory`; undefined for the default, which may be absent. */
  directoryKey?: string | undefined;
}

/** An extension after defaults. */
export interface ResolvedExtension {
  name: string;
  required: boolean;
  databases: string[];
  schema: string | undefined;
  version: string | undefined;
}

/** Migrations after defaults, with an absolute directory. */
export interface ResolvedMigrations {
  directory: string;
  /** The config key that named `directory` (e.g. `databases[1].migrations.directory`); undefined for the default, which may be absent. */
  directoryKey?: string | undefined;
  builtIn: boolean;
  command: string[] | undefined;
  /** The app's migrator's status command (migrate:status runs it); absent when not configured. */
  statusCommand?: string[] | undefined;
}

/** The validated config with every default applied and every path absolute. */
export interface ResolvedConfig {
  /** The file it was read from; undefined when no file exists and defaults apply. */
  file: string | undefined;
  /** The folder relative paths resolve against (the config file's folder). */
  projectDir: string;
  postgresMajor: number;
  engine: EngineChoice;
  url: string | undefined;
  port: number;
  /** Where `port` came from: the config, or derived from the project's folder (absent: the config). */
  portSource?: 'config' | 'project-folder' | undefined;
  superuser: string;
  stateDir: string;
  /** undefined: derived from stateDir (and relocated when the server user cannot reach it). */
  dataDir: string | undefined;
  socketDir: string | undefined;
  runAs: string | undefined;
  databases: ResolvedDatabase[];
  extensions: ResolvedExtension[];
  settings: Record<string, string>;
  migrations: ResolvedMigrations;
  uuidv7: { fallbackRandom: FallbackRandom; generator: Uuidv7Generator };
  /** Named servers, by name. */
  targets: Record<string, ResolvedTarget>;
  /** Absent in configs made by hand (tests) before seeds existed. */
  seeds?: ResolvedSeeds;
  /**
   * Set for a second cluster of the project, never by a config file: `test` for the throwaway test cluster.
   * Its relocated runtime state (as root, see server/placement.ts) then goes beside the project's own.
   */
  clusterName?: string | undefined;
}

/** The names a project's config file may have, in the order pgstrap looks for them. */
export const CONFIG_FILES = [
  'extensions.config.ts',
  'extensions.config.mts',
  'extensions.config.js',
  'extensions.config.mjs',
] as const;

/** Typed helper for `extensions.config.ts`; returns its argument. */
export function defineConfig(config: PgstrapConfig): PgstrapConfig {
  return config;
}
