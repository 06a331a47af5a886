/**
 * Per-test databases (pure): the template's key, the names of templates and clones, and what a name says
 * about the process that made it. A clone's name carries its creator's host and pid, so a reaper can tell
 * a clone whose run is gone from one still in use.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ResolvedConfig, ResolvedDatabase, ResolvedExtension } from '../config/types.ts';
import { quoteIdent, quoteLiteral } from '../shared/identifiers.ts';
import { projectTag } from '../server/layout.ts';
import { createDatabaseStatement, dropDatabaseStatement, type CopyStrategy } from '../databases/plan.ts';

/** Bumped when what a template holds changes for the same inputs (pgstrap's own SQL). */
export const TEMPLATE_FORMAT = 1;
export const TEMPLATE_PREFIX = 'pgstrap_template_';
export const CLONE_PREFIX = 'pgstrap_test_';
/** The comment of a clone kept for a failed test: the reaper leaves it (db:prune-test --all drops it). */
export const KEPT_COMMENT = 'pgstrap kept';

/** Everything a template is built from; its hash names the template. */
export interface TemplateInputs {
  database: string;
  migrations: ReadonlyArray<{ path: string; checksum: string }>;
  /** The app's own migrator, which pgstrap cannot look into: its command is part of the key. */
  migrationsCommand: readonly string[] | undefined;
  seeds: ReadonlyArray<{ path: string; text: string }>;
  extensions: readonly ResolvedExtension[];
  uuidv7: ResolvedConfig['uuidv7'];
  /** server_version_num */
  serverVersion: number;
}

/** The first 12 hex digits of the SHA-256 of the inputs. */
export function templateHash(inputs: TemplateInputs): string {
  const hash = createHash('sha256');
  hash.update(JSON.stringify({ format: TEMPLATE_FORMAT, ...inputs, extensions: inputs.extensions.map((e) => ({ ...e, databases: undefined })) }));
  return hash.digest('hex').slice(0, 12);
}

/** Up to 24 bytes of the source database's name, for readable template names within the 63-byte limit. */
function shortBase(database: string): string {
  return database.replace(/[^a-z0-9_]/gi, '_').slice(0, 24).toLowerCase();
}

/** `pgstrap_template_app_1a2b3c4d5e6f`. */
export function templateName(database: string, hash: string): string {
  return `${TEMPLATE_PREFIX}${shortBase(database)}_${hash}`;
}

/** The database a template is built in before it is renamed, so a crash never leaves a half-built template under the real name. */
export function buildName(template: string): string {
  return `${template}_build`;
}

/** The comment that marks a finished template. */
export function templateComment(hash: string): string {
  return `pgstrap template ${hash}`;
}

/** A short, stable tag of a host name: 6 hex digits. */
export function hostTag(hostname: string): string {
  return createHash('sha256').update(hostname).digest('hex').slice(0, 6);
}

/** `pgstrap_test_<host>_<pid>_<seq>_<random>`. */
export function cloneName(host: string, pid: number, seq: number, random: string): string {
  return `${CLONE_PREFIX}${host}_${pid}_${seq}_${random}`;
}

/** The creator of a clone, read from its name; undefined for a name pgstrap did not make. */
export function parseCloneName(name: string): { host: string; pid: number } | undefined {
  const match = /^pgstrap_test_([0-9a-f]{6})_(\d+)_\d+_[0-9a-z]+$/.exec(name);
  return match ? { host: match[1]!, pid: Number(match[2]) } : undefined;
}

/** What the reaper does with one test database. */
export type ReapVerdict = 'drop' | 'keep-alive' | 'keep-other-host' | 'keep-kept' | 'keep-current';

/** Whether the reaper drops `db`: a clone of this host whose process is gone (and not kept), or with `all` every template and kept clone. */
export function judgeTestDatabase(
  db: { name: string; comment: string | null },
  facts: { host: string; isAlive: (pid: number) => boolean; all: boolean; currentTemplates: readonly string[] },
): ReapVerdict {
  if (db.name.startsWith(TEMPLATE_PREFIX)) {
    if (facts.all) return 'drop';
    if (db.name.endsWith('_build')) return 'drop';
    return facts.currentTemplates.includes(db.name) ? 'keep-current' : 'drop';
  }
  const creator = parseCloneName(db.name);
  if (!creator) return 'keep-other-host';
  if (creator.host !== facts.host) return 'keep-other-host';
  // A kept clone is no longer in use, whether its run still goes on or not.
  if (db.comment?.startsWith(KEPT_COMMENT)) return facts.all ? 'drop' : 'keep-kept';
  return facts.isAlive(creator.pid) ? 'keep-alive' : 'drop';
}

/** The config and database a template is built as: the source database's declaration, under the build name. */
export function templateConfig(config: ResolvedConfig, source: ResolvedDatabase, name: string): { config: ResolvedConfig; database: ResolvedDatabase } {
  const database = { ...source, name };
  const extensions = config.extensions.filter((e) => e.databases.includes(source.name)).map((e) => ({ ...e, databases: [name] }));
  return { config: { ...config, databases: [database], extensions }, database };
}

/** CREATE DATABASE for a clone; STRATEGY only where the server knows it (15+). */
export function cloneStatement(clone: string, template: string, strategy: CloneStrategy | undefined, serverMajor: number): string {
  return createDatabaseStatement(clone, { template, strategy, serverMajor });
}

/** How CREATE DATABASE copies the template (PostgreSQL 15+). */
export type CloneStrategy = CopyStrategy;
export const CLONE_STRATEGIES: readonly CloneStrategy[] = ['WAL_LOG', 'FILE_COPY'];

/** The statements that finish a built template: rename, mark, comment, and no connections (which would block clones). */
export function finishTemplateStatements(build: string, template: string, hash: string): string[] {
  return [
    `ALTER DATABASE ${quoteIdent(build)} RENAME TO ${quoteIdent(template)}`,
    `ALTER DATABASE ${quoteIdent(template)} WITH IS_TEMPLATE true ALLOW_CONNECTIONS false`,
    `COMMENT ON DATABASE ${quoteIdent(template)} IS ${quoteLiteral(templateComment(hash))}`,
  ];
}

/** The statements that drop a test database or template (a template must stop being one first). */
export function dropTestDatabaseStatements(name: string, isTemplate: boolean): string[] {
  return [...(isTemplate ? [`ALTER DATABASE ${quoteIdent(name)} WITH IS_TEMPLATE false`] : []), dropDatabaseStatement(name, { force: true })];
}

/**
 * The strategy clones use unless told, chosen by bench/test-databases.ts (docs/testing.md#speed): WAL_LOG where
 * fsync is on (FILE_COPY's two checkpoints flush to disk, about 1.7x slower there), FILE_COPY on the throwaway
 * test cluster, whose checkpoints flush nothing (WAL_LOG writes the whole template to the WAL, 1.4x to 1.7x slower).
 */
export function defaultCloneStrategy(testCluster: boolean): CloneStrategy {
  return testCluster ? 'FILE_COPY' : 'WAL_LOG';
}

/**
 * Settings of the throwaway test cluster: no fsync, no full-page images, no waiting for the WAL; and a checkpoint
 * at the latest every 256 MB of WAL (not 1 GB), since its WAL may be in memory. A crash may lose it whole, which
 * is why it never runs on the development data directory.
 */
export const TEST_CLUSTER_SETTINGS: Readonly<Record<string, string>> = { fsync: 'off', full_page_writes: 'off', synchronous_commit: 'off', max_wal_size: '256MB', min_wal_size: '32MB' };

/**
 * The config of the project's throwaway test cluster: its own state folder and port, the project's engine,
 * extensions and settings plus TEST_CLUSTER_SETTINGS; its data directory `dataDir` (in memory) or, when that is
 * undefined, `<stateDir>/data`.
 */
export function testClusterConfig(base: ResolvedConfig, stateDir: string, port: number, dataDir?: string): ResolvedConfig {
  return { ...base, stateDir, dataDir, socketDir: undefined, port, settings: { ...base.settings, ...TEST_CLUSTER_SETTINGS }, clusterName: 'test' };
}

/**
 * Where the test cluster's data directory goes in a memory file system (`memoryDir`, Linux's /dev/shm): a folder
 * of its own per project (tagged by the development state folder), so that a clone's file copies and deletes
 * never wait on the disk. Undefined `memoryDir`: none (the data directory stays under the state folder).
 */
export function memoryDataDir(memoryDir: string | undefined, devStateDir: string): string | undefined {
  return memoryDir === undefined ? undefined : path.join(memoryDir, `pgstrap-test-${projectTag(devStateDir)}`, 'data');
}
