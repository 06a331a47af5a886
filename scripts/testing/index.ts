/**
 * `pgstrap/testing`: a fresh database per test file or worker, cloned in milliseconds from a template built
 * from the project's migrations, seeds and extensions (docs/testing.md).
 *
 *     const db = await createTestDatabase();
 *     // ... connect to db.url ...
 *     await db.drop();
 */
import type { EngineChoice } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { withDatabase } from '../server/database-url.ts';
import { clientEnvironment } from '../server/client-env.ts';
import type { Target } from '../server/target.ts';
import { openProject } from '../pipeline/project.ts';
import { cloneTemplate, dropClone, ensureTemplate, keepClone, pruneTestDatabases, type ReapResult, type Template } from './databases.ts';
import { defaultCloneStrategy, type CloneStrategy } from './template.ts';
import { startTestCluster } from './cluster.ts';

export type { CloneStrategy, ReapResult };

/** Where the project is and how to reach its server; every field is optional. */
export interface TestDatabaseOptions {
  /** The project folder the config is searched from. Default: process.cwd(). */
  cwd?: string;
  /** The config file. Default: the one found from `cwd`. */
  config?: string;
  /** An external server, for a role that may create databases: a URL without a database. Default: PGSTRAP_URL, else the project's cluster. */
  url?: string;
  engine?: EngineChoice;
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

interface Prepared {
  target: Target;
  template: Template;
  /** The strategy when the options name none: by the cluster. */
  strategy: CloneStrategy;
}

/**
 * One project and template per set of options in this process: the second clone costs one CREATE DATABASE.
 * Files are read once per process (a test run does not edit its migrations); a template dropped meanwhile by
 * a run of other content is built again.
 */
const prepared = new Map<string, Promise<Prepared>>();

function keyOf(options: TestDatabaseOptions): string {
  return JSON.stringify([options.cwd ?? process.cwd(), options.config, options.url, options.engine, options.database, options.testCluster ?? process.env.PGSTRAP_TEST_CLUSTER === '1']);
}

async function prepare(options: TestDatabaseOptions): Promise<Prepared> {
  let { target } = await openProject({ cwd: options.cwd, config: options.config, url: options.url, engine: options.engine, json: true });
  const testCluster = options.testCluster ?? process.env.PGSTRAP_TEST_CLUSTER === '1';
  if (testCluster) {
    if (target.kind === 'external') {
      throw new PgstrapError({ code: 'testing.test-cluster-external', message: 'a throwaway test cluster runs on the project\'s own engine, not on an external server', remedy: 'Drop testCluster (or PGSTRAP_TEST_CLUSTER), or the URL.', exit: ExitCode.usage });
    }
    target = await startTestCluster(target, options.log);
  } else if (target.kind !== 'external' && !target.cluster.status().running) {
    throw new PgstrapError({
      code: 'testing.not-running',
      message: "the project's cluster is not running, so there is no server to make test databases on",
      remedy: 'Run `pgstrap setup` (or `pgstrap start`) first, e.g. in Vitest\'s globalSetup (docs/testing.md).',
      exit: ExitCode.cluster,
    });
  }
  const source = options.database === undefined ? target.config.databases[0]! : target.config.databases.find((d) => d.name === options.database);
  if (!source) {
    throw new PgstrapError({ code: 'usage', message: `database ${options.database} is not one of ${target.config.databases.map((d) => d.name).join(', ')}`, remedy: 'Name a configured database.', exit: ExitCode.usage });
  }
  return { target, template: await ensureTemplate(target, source, options.log), strategy: defaultCloneStrategy(testCluster) };
}

function preparedFor(options: TestDatabaseOptions): Promise<Prepared> {
  const key = keyOf(options);
  let entry = prepared.get(key);
  if (!entry) {
    entry = prepare(options);
    prepared.set(key, entry);
    entry.catch(() => prepared.delete(key));
  }
  return entry;
}

/** The URL of `database` on the target, with the credentials a client needs. */
function urlOf(target: Target, database: string): string {
  if (target.kind === 'external') return withDatabase(target.url, database).toString();
  return clientEnvironment(target.layout, target.config, database).DATABASE_URL!;
}

/** The URL without its password, for printing. */
function shownUrl(url: string): string {
  const copy = new URL(url);
  copy.password = '';
  return copy.toString();
}

/**
 * Builds the template when its content changed (once, however many workers ask at the same time) and returns
 * its name: call it from a global setup so the first test does not pay for the build.
 */
export async function prepareTestTemplate(options: TestDatabaseOptions = {}): Promise<{ template: string; built: boolean }> {
  const { template } = await preparedFor(options);
  return { template: template.name, built: template.built };
}

/** A new database cloned from the project's template. */
export async function createTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  let { target, template, strategy } = await preparedFor(options);
  let name: string;
  try {
    name = await cloneTemplate(target, template, options.strategy ?? strategy);
  } catch (error) {
    // 3D000: another run rebuilt the template for other content and dropped this one; build ours again, once.
    if ((error as { code?: string }).code !== '3D000') throw error;
    prepared.delete(keyOf(options));
    ({ target, template, strategy } = await preparedFor(options));
    name = await cloneTemplate(target, template, options.strategy ?? strategy);
  }
  const url = urlOf(target, name);
  const keepFailed = options.keepFailed ?? process.env.PGSTRAP_KEEP_FAILED === '1';
  let dropped = false;
  return {
    name,
    url,
    async drop(dropOptions = {}) {
      if (dropped) return;
      dropped = true;
      if (dropOptions.failed && keepFailed) {
        await keepClone(target, name);
        process.stderr.write(`pgstrap: kept the failed test's database ${name}: ${shownUrl(url)} (drop it with pgstrap db:prune-test --all)\n`);
        return;
      }
      await dropClone(target, name);
    },
  };
}

/** Drops clones whose run is gone (what `pgstrap db:prune-test` does); `all` drops templates and kept clones too. */
export async function pruneTestDatabasesOf(options: TestDatabaseOptions & { all?: boolean } = {}): Promise<ReapResult> {
  const { target } = await openProject({ cwd: options.cwd, config: options.config, url: options.url, engine: options.engine, json: true });
  return pruneTestDatabases(target, { all: options.all ?? false });
}
