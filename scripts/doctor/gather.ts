/**
 * The doctor's effects: reads the environment, the config, the cluster's files and the servers, and
 * returns plain facts for the pure checks beside it to judge. Nothing here changes anything.
 *
 * Speed matters (warm doctor under a second, Node start included): the only programs run are engine
 * selection's short probes (through node:child_process, not execa), every connection opens at once, and
 * each database gets exactly one connection.
 */
import { parseLibraryList } from '../server/conf.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../config/load.ts';
import type { ResolvedConfig, ResolvedDatabase, ResolvedExtension } from '../config/types.ts';
import { isPgstrapError, messageOf } from '../shared/errors.ts';
import { installRoot } from '../shared/install-root.ts';
import type {
  ClusterFacts,
  ConnectionFact,
  CronFact,
  DatabaseFacts,
  DoctorFacts,
  EnvironmentFacts,
  FileFact,
  FlakeFact,
  MigrationFact,
  ServerFacts,
  ServerSetting,
  Uuidv7Fact,
} from './facts.ts';
import { describeTarget, describeTlsConnectFailure, queryPipeline, tlsProtocol, withClient, type ConnectionTarget } from '../server/connection.ts';
import { readInstalledExtensions, readServerFacts } from '../extensions/server.ts';
import { readStrategyAndFallback } from '../uuidv7/read.ts';
import { readCronJobs } from './read-cron.ts';
import { settingsStatement, toServerSettings } from '../server/read-settings.ts';
import { UUIDV7_SCHEMA } from '../uuidv7/strategy.ts';
import type { PostgresBinaries } from '../server/binaries.ts';
import { tailFile } from '../server/cluster.ts';
import { requireEmbeddedBinaries } from '../server/embedded.ts';
import { describePortHolder, loopbackHolding } from '../server/port.ts';
import { freeSpace } from '../server/free-space.ts';
import { selectTarget } from '../server/select.ts';
import { connectionFor, describeEngine, maintenanceDatabase, readPassword, type ManagedTarget, type Target } from '../server/target.ts';
import { programAnswersFile } from '../server/layout.ts';
import type { CommonOptions } from '../pipeline/project.ts';
import { targetSettings } from '../cluster/settings.ts';
import { declaredForTarget } from '../extensions/targeted.ts';
import { readNixExtensionsCheck, hasFlake, isProjectConfig, probeNixVersion } from '../nix/step.ts';
import { readMigrationPlan } from '../migrations/runner.ts';
import { probeUnpinnedSessions } from '../migrations/lock.ts';
import { errorJson } from '../shared/render-error.ts';

/** What a doctor run needs besides the common flags. */
export interface GatherOptions extends CommonOptions {
  /** The environment to read (IN_NIX_SHELL, PG_BIN, PGSTRAP_URL); process.env by default. */
  env?: NodeJS.ProcessEnv;
}

/** The facts, plus the config and target they came from (for --fix). */
export interface Gathered {
  facts: DoctorFacts;
  config: ResolvedConfig | undefined;
  target: Target | undefined;
}

function fileFact(file: string): FileFact {
  try {
    const stat = fs.statSync(file);
    return { path: file, exists: true, mode: stat.mode & 0o777, uid: stat.uid };
  } catch {
    return { path: file, exists: false, mode: undefined, uid: undefined };
  }
}

/** engines.node of the nearest package.json at or above `dir`. */
function readEngines(dir: string): { range: string | undefined; file: string | undefined } {
  for (let current = dir; ; current = path.dirname(current)) {
    const file = path.join(current, 'package.json');
    if (fs.existsSync(file)) {
      try {
        const pkg = JSON.parse(fs.readFileSync(file, 'utf8')) as { engines?: { node?: string } };
        return { range: pkg.engines?.node, file };
      } catch {
        return { range: undefined, file };
      }
    }
    if (path.dirname(current) === current) return { range: undefined, file: undefined };
  }
}

function environmentFacts(env: NodeJS.ProcessEnv, dir: string, nixVersion: string | undefined): EnvironmentFacts {
  const { range, file } = readEngines(dir);
  // In this repository the project's package.json is pgstrap's own: toolchain.node judges it already.
  const own = readEngines(installRoot());
  return { nixShell: env.IN_NIX_SHELL || undefined, direnvDir: env.DIRENV_DIR || undefined, nodeVersion: process.versions.node, nodeRange: range, packageJson: file, nixVersion, pgstrapNodeRange: own.file === file ? undefined : own.range };
}

function flakeFact(config: ResolvedConfig): FlakeFact | undefined {
  // A scratch config (--config) does not decide the committed file, so it is not compared with it.
  return hasFlake(config) && isProjectConfig(config) ? readNixExtensionsCheck(config) : undefined;
}

/** The embedded binaries for the configured major: those in use, or the fallback's. */
function embeddedFact(config: ResolvedConfig, inUse: PostgresBinaries | undefined): DoctorFacts['embedded'] {
  if (inUse?.engine === 'embedded') return { ok: true, binaries: inUse };
  try {
    return { ok: true, binaries: requireEmbeddedBinaries(config.postgresMajor, config.projectDir) };
  } catch (error) {
    return { ok: false, error: errorJson(error) };
  }
}

/** Free space where the first of `dirs` that exists lives. */
function diskFact(dirs: string[]): ClusterFacts['disk'] {
  const dir = dirs.find((d) => fs.existsSync(d));
  const space = dir === undefined ? undefined : freeSpace(dir);
  return dir === undefined || space === undefined ? undefined : { dir, free: space.free, total: space.total };
}

async function clusterFacts(target: ManagedTarget, config: ResolvedConfig): Promise<ClusterFacts> {
  const { cluster, layout } = target;
  const status = cluster.status();
  // The listener check binds the port for a moment: only when our server does not already hold it.
  const ours = status.running && status.port === config.port;
  const portTakenOn = ours ? undefined : await loopbackHolding(config.port);
  const portFree = ours ? undefined : portTakenOn === undefined;
  const portHolder = portFree === false ? await describePortHolder(config.port) : undefined;
  const uid = process.getuid?.() ?? 0;
  const managedConf = status.initialised ? cluster.readManagedConf() : {};
  return {
    initialised: status.initialised,
    dataMajor: status.dataMajor,
    running: status.running,
    pid: status.pid,
    port: status.port,
    stalePid: status.stalePid,
    dataDir: fileFact(layout.dataDir),
    logFile: layout.logFile,
    logTail: status.running ? [] : tailFile(layout.logFile, 200),
    disk: diskFact([layout.dataDir, path.dirname(layout.dataDir), config.projectDir]),
    configuredPort: config.port,
    portSource: config.portSource,
    portFree,
    portTakenOn,
    portHolder,
    owner: target.user ? { uid: target.user.uid, name: target.user.name } : { uid, name: os.userInfo().username },
    managedConf,
    // As the settings step computes it: preloads only for libraries these binaries have installed, and kept while in use.
    desiredConf: (await targetSettings(config, target, managedConf)).settings,
  };
}

/** A connection that was made, on which a question then failed: the server was reached, and what could not be read is said as such. */
function readFailure(where: string, error: unknown): ConnectionFact {
  const pgError = error as { code?: unknown; message?: string } | undefined;
  return { ok: true, where, error: undefined, sqlState: sqlStateOf(pgError), readError: pgError?.message ?? messageOf(error) };
}

function sqlStateOf(pgError: { code?: unknown } | undefined): string | undefined {
  return typeof pgError?.code === 'string' && /^[0-9A-Z]{5}$/.test(pgError.code) ? pgError.code : undefined;
}

/** Runs `fn` on a fresh connection and records how connecting went. */
async function probe<T>(target: ConnectionTarget, fn: (client: pg.Client) => Promise<T>): Promise<{ connection: ConnectionFact; value: T | undefined }> {
  const where = describeTarget(target);
  let connected = false;
  try {
    const value = await withClient(target, (client) => {
      connected = true;
      return fn(client);
    });
    return { connection: { ok: true, where, error: undefined, sqlState: undefined }, value };
  } catch (error) {
    // A failed query arrives as pg's own error.
    if (connected) return { connection: readFailure(where, error), value: undefined };
    // withClient wraps a failed connect in a PgstrapError.
    const pgError = (isPgstrapError(error) ? error.cause : error) as { code?: unknown; message?: string } | undefined;
    const sqlState = sqlStateOf(pgError);
    // A TLS failure says which (the CA, the host name) and how to fix it, as the other commands do.
    const tls = describeTlsConnectFailure(target, pgError);
    if (tls) return { connection: { ok: false, where, error: tls.message, sqlState, remedy: tls.remedy }, value: undefined };
    return { connection: { ok: false, where, error: pgError?.message ?? messageOf(error), sqlState }, value: undefined };
  }
}

/** shared_preload_libraries, or null where the role may not read it (current_setting() would fail). */
const PRELOADS = "SELECT CASE WHEN pg_has_role('pg_read_all_settings', 'USAGE') THEN current_setting('shared_preload_libraries') END AS spl, pg_backend_pid() AS pid";

/** What the server-wide questions read. */
type ServerAnswers = Awaited<ReturnType<typeof askServer>>;

/** The server-wide questions, on `client` (any database answers them alike). */
async function askServer(client: pg.Client, target: Target, settingNames: string[], declared: ResolvedExtension[]) {
  // One round trip for the preloads, the settings and the backend's pid, one for the planner's facts, the version and the role.
  const [head, settings] = await queryPipeline(client, [{ text: PRELOADS }, settingsStatement(settingNames)]);
  // The same client for every question, output plugins' slots too.
  const extensions = await readServerFacts(target, declared, (_database, fn) => fn(client));
  const pooling = await readPooling(target, client, Number(head![0]!.pid));
  const tls = target.kind === 'external' && target.tls ? { settings: target.tls, protocol: tlsProtocol(client) } : undefined;
  return { pooling, tls, spl: head![0]!.spl as string | null, settings: toServerSettings(settingNames, settings!), extensions };
}

function toServerFacts(connection: ConnectionFact, value: ServerAnswers | undefined, settingNames: string[]): ServerFacts {
  const settings: ServerSetting[] = value?.settings ?? settingNames.map((name) => ({ name, setting: undefined, unit: undefined, vartype: undefined, pendingRestart: false }));
  const extensions = value?.extensions;
  return {
    pooling: value?.pooling,
    tls: value?.tls,
    connection,
    version: extensions?.version,
    versionNum: extensions?.versionNum,
    preloaded: value?.spl === null ? undefined : parseLibraryList(value?.spl),
    settings,
    extensions,
    role: extensions?.role,
  };
}

/** The server-wide facts on a connection of their own, to the maintenance database. */
async function serverFacts(target: Target, settingNames: string[], declared: ResolvedExtension[]): Promise<ServerFacts> {
  const { connection, value } = await probe(connectionFor(target, maintenanceDatabase(target)), (client) => askServer(client, target, settingNames, declared));
  return toServerFacts(connection, value, settingNames);
}

/** Whether the migration lock would hold on an external server's URL (free on a direct connection: see migrations/lock.ts). */
async function readPooling(target: Target, client: pg.Client, backendPid: number): Promise<ServerFacts['pooling']> {
  if (target.kind !== 'external') return undefined;
  if (target.direct) return { unpinned: undefined, direct: true };
  try {
    return { unpinned: await probeUnpinnedSessions(client, connectionFor(target, maintenanceDatabase(target)), backendPid), direct: false };
  } catch {
    return undefined;
  }
}

/** The recorded strategy and two ids from a quick call. */
async function readUuidv7(client: pg.Client): Promise<Uuidv7Fact> {
  const read = await readStrategyAndFallback(client, UUIDV7_SCHEMA);
  const strategy = read.strategy;
  const fallbackRandom = strategy === 'fallback' ? read.fallbackRandom : undefined;
  try {
    const { rows } = await client.query<{ a: string; b: string }>('SELECT uuidv7()::text AS a, uuidv7()::text AS b');
    return { strategy, fallbackRandom, sample: [rows[0]!.a, rows[0]!.b], error: undefined };
  } catch (error) {
    return { strategy, fallbackRandom, sample: undefined, error: messageOf(error) };
  }
}

/** The migration runner's plan, read on the database's one connection (getMigrationStatus would open another). */
async function readMigrationFact(client: pg.Client, db: ResolvedDatabase, projectDir: string): Promise<MigrationFact> {
  const { builtIn } = db.migrations;
  try {
    return { builtIn, plan: await readMigrationPlan(client, db, projectDir), error: undefined };
  } catch (error) {
    return { builtIn, plan: undefined, error: messageOf(error), remedy: isPgstrapError(error) ? error.remedy : undefined };
  }
}

/**
 * One database's facts on its one connection; with `askServer`, the server-wide questions too, asked first on
 * the same connection (a backend fewer: its start cost more than the questions), with how asking them went: a
 * failed server question is that connection's read error, never the database's. No `server` when the
 * connection could not be made.
 */
async function databaseFacts(
  target: Target,
  config: ResolvedConfig,
  db: ResolvedDatabase,
  askServer?: (client: pg.Client) => Promise<ServerAnswers>,
): Promise<{ database: DatabaseFacts; server?: { connection: ConnectionFact; value: ServerAnswers | undefined } | undefined }> {
  let asked: { value: ServerAnswers } | { error: unknown } | undefined;
  const { connection, value } = await probe(connectionFor(target, db.name), async (client) => {
    if (askServer) {
      try {
        asked = { value: await askServer(client) };
      } catch (error) {
        asked = { error };
      }
    }
    const installed = await readInstalledExtensions(client);
    const uuidv7 = await readUuidv7(client);
    const migrations = await readMigrationFact(client, db, config.projectDir);
    const cron = installed.has('pg_cron') ? await readCronFact(client) : undefined;
    return { installed, uuidv7, migrations, cron };
  });
  const database = { name: db.name, connection, installed: value?.installed ?? new Map(), uuidv7: value?.uuidv7, migrations: value?.migrations, cron: value?.cron };
  if (asked === undefined) return { database };
  const connected: ConnectionFact = { ok: true, where: connection.where, error: undefined, sqlState: undefined };
  return { database, server: 'error' in asked ? { connection: readFailure(connection.where, asked.error), value: undefined } : { connection: connected, value: asked.value } };
}

/** pg_cron's jobs and their last runs; a failed read is kept as the fact's error. */
async function readCronFact(client: pg.Client): Promise<CronFact> {
  try {
    return await readCronJobs(client);
  } catch (error) {
    return { host: undefined, backgroundWorkers: false, runsRecorded: false, jobs: [], error: messageOf(error) };
  }
}

/** TCP to 127.0.0.1 with the superuser's password: what DATABASE_URL clients do. */
async function tcpFact(target: ManagedTarget, config: ResolvedConfig): Promise<ConnectionFact> {
  const password = readPassword(target.layout);
  const result = await probe({ host: '127.0.0.1', port: config.port, user: config.superuser, password: password ?? '', database: 'postgres' }, (c) => c.query('SELECT 1'));
  return result.connection;
}

/** Observes everything doctor checks. Never throws for a problem it can report. */
export async function gatherFacts(options: GatherOptions): Promise<Gathered> {
  const env = options.env ?? process.env;
  const cwd = options.cwd ?? process.cwd();
  const uid = process.getuid?.() ?? 0;
  const facts: DoctorFacts = {
    environment: environmentFacts(env, cwd, undefined),
    config: { ok: false, error: { code: 'config', message: 'not loaded', details: [], remedy: undefined } },
    declared: [],
    flake: undefined,
    engine: undefined,
    engineChoice: 'auto',
    embedded: undefined,
    cluster: undefined,
    passwordFiles: [],
    uid,
    server: undefined,
    tcp: undefined,
    databases: [],
  };
  let config: ResolvedConfig;
  try {
    config = await loadConfig({ cwd, explicitPath: options.config });
  } catch (error) {
    facts.config = { ok: false, error: errorJson(error) };
    facts.environment = environmentFacts(env, cwd, await probeNixVersion({ PATH: env.PATH }));
    return { facts, config: undefined, target: undefined };
  }
  facts.config = { ok: true, value: config };
  const nixVersion = await probeNixVersion({ PATH: env.PATH }, programAnswersFile(config.stateDir));
  facts.engineChoice = options.url || options.target ? 'external' : (options.engine ?? config.engine);
  facts.environment = environmentFacts(env, config.projectDir, nixVersion);
  facts.flake = flakeFact(config);
  let target: Target;
  try {
    target = await selectTarget(config, { engine: options.engine, url: options.url, target: options.target, directUrl: options.directUrl, env });
  } catch (error) {
    facts.engine = { ok: false, error: errorJson(error) };
    facts.embedded = embeddedFact(config, undefined);
    return { facts, config, target: undefined };
  }
  const managed = target.kind === 'external' ? undefined : target;
  // PGSTRAP_URL picks an external server without any flag.
  if (!managed) facts.engineChoice = 'external';
  facts.declared = declaredForTarget(config, target.databases);
  facts.engine = {
    ok: true,
    kind: target.kind,
    description: describeEngine(target),
    choice: target.choice,
    binaries: managed?.binaries,
    mayCreateDatabases: target.kind === 'external' ? target.mayCreateDatabases : true,
  };
  facts.embedded = embeddedFact(config, managed?.binaries);
  if (managed) {
    facts.cluster = await clusterFacts(managed, config);
    facts.passwordFiles = facts.cluster.initialised ? [fileFact(managed.layout.passwordFile), fileFact(managed.layout.pgpassFile)] : [];
    if (!facts.cluster.running) return { facts, config, target };
  }
  const settingNames = Object.keys(managed ? facts.cluster!.desiredConf : config.settings);
  // On the project's cluster the server-wide questions ride on the first database's connection; where that
  // cannot be made (a database not created yet), on the maintenance database's. A server by URL keeps its own
  // connection for them, beside the databases': the pooler probe (readPooling) is read from how open sessions
  // share the pooler's backends, as migrate meets them.
  const ask = managed ? (client: pg.Client) => askServer(client, target, settingNames, facts.declared) : undefined;
  const [external, tcp, results] = await Promise.all([
    managed ? Promise.resolve(undefined) : serverFacts(target, settingNames, facts.declared),
    managed ? tcpFact(managed, config) : Promise.resolve(undefined),
    Promise.all(target.databases.map((d, i) => databaseFacts(target, config, d, i === 0 ? ask : undefined))),
  ]);
  const shared = results[0]?.server;
  const server = external ?? (shared ? toServerFacts(shared.connection, shared.value, settingNames) : await serverFacts(target, settingNames, facts.declared));
  Object.assign(facts, { server, tcp, databases: results.map((r) => r.database) });
  return { facts, config, target };
}
