/**
 * The types of `pgstrap/testing` (testing.mjs), for an app's tsc: no pgstrap source reaches it.
 * test/package/public-types.ts proves they match scripts/testing/index.ts.
 */

/** How CREATE DATABASE copies the template (PostgreSQL 15+). */
export type CloneStrategy = 'WAL_LOG' | 'FILE_COPY';

/** What a prune dropped, and what it kept with why. */
export interface ReapResult {
  dropped: string[];
  kept: Array<{ name: string; why: string }>;
}

/** Where the project is and how to reach its server; every field is optional. */
export interface TestDatabaseOptions {
  /** The project folder the config is searched from. Default: process.cwd(). */
  cwd?: string;
  /** The config file. Default: the one found from `cwd`. */
  config?: string;
  /** An external server, for a role that may create databases: a URL without a database. Default: PGSTRAP_URL, else the project's cluster. */
  url?: string;
  engine?: 'auto' | 'system' | 'embedded' | 'external';
  /** The configured database whose migrations, seeds and extensions the clone gets. Default: the first. */
  database?: string;
  /** How CREATE DATABASE copies the template (15+). Default: WAL_LOG, FILE_COPY on the test cluster (docs/testing.md#speed). */
  strategy?: CloneStrategy;
  /** Keep a failed test's database (drop({ failed: true })) and print its URL. Default: PGSTRAP_KEEP_FAILED=1. */
  keepFailed?: boolean;
  /**
   * Make the databases on the project's throwaway test cluster (fsync off; state in `<stateDir>/test-cluster`,
   * data in memory on Linux unless PGSTRAP_TEST_CLUSTER_MEMORY=0), started on first use, instead of the development
   * cluster; its clones are the fast ones (docs/testing.md#speed). Default: PGSTRAP_TEST_CLUSTER=1.
   */
  testCluster?: boolean;
  /** Lines about the template build. Default: none. */
  log?: (line: string) => void;
}

/** A database of its own for a test file or worker. */
export interface TestDatabase {
  name: string;
  /** postgresql:// URL with the credentials to use it. */
  url: string;
  /** Drops it (ending its sessions). With `failed: true` and keepFailed, keeps it and prints its URL instead. */
  drop(options?: { failed?: boolean }): Promise<void>;
}

/** Builds (or finds) the template for the options' database ahead of the first clone: for a global setup. */
export function prepareTestTemplate(options?: TestDatabaseOptions): Promise<{ template: string; built: boolean }>;

/** A new database cloned from the template of the project's migrations, seeds and extensions. */
export function createTestDatabase(options?: TestDatabaseOptions): Promise<TestDatabase>;

/** Drops clones whose process is gone, older templates and half builds; with `all`, kept clones and the test cluster too. */
export function pruneTestDatabasesOf(options?: TestDatabaseOptions & { all?: boolean }): Promise<ReapResult>;
