/**
 * The public types of 'pgstrap' (index.mjs): what an app's extensions.config.ts sees. A declaration file, so
 * an app's tsc never type-checks pgstrap's sources. test/package/public-types.ts proves these types equal
 * scripts/config/types.ts's; change both together.
 */

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

/**
 * Which generator uuidv7() calls where the database has pg_uuidv7 (PostgreSQL 13-17; 18 is always native):
 * `fallback`, pgstrap's SQL function, in order within a session, so bulk inserts fill the primary-key index
 * in order; or `pg_uuidv7`, the extension's C function, cheaper to call but random within a millisecond.
 */
export type Uuidv7Generator = 'fallback' | 'pg_uuidv7';

/** How pgstrap finds the server it manages. */
export type EngineChoice = 'auto' | 'system' | 'embedded' | 'external';

/** A database the project owns. */
export interface DatabaseConfig {
  /** Database name: a plain SQL identifier of at most 63 bytes. */
  name: string;
  /** Migrations for this database only; defaults to the top-level `migrations`. */
  migrations?: MigrationsConfig;
  /** Seeds for this database only; defaults to the top-level `seeds`. */
  seeds?: SeedsConfig;
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

/** Seed files `db:reset`, `db:seed` and test templates apply in name order. */
export interface SeedsConfig {
  /** Folder of `.sql` files, relative to the config file. Default `seeds`. */
  directory?: string;
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

/** Typed helper for `extensions.config.ts`; returns its argument. */
export declare function defineConfig(config: PgstrapConfig): PgstrapConfig;
