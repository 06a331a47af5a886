/**
 * What the doctor observed, as plain data. gather.ts gathers it (the only part of the doctor that touches the
 * machine); the evaluators in this folder turn it into checks, so every verdict is testable without a server.
 */
import type { TlsSettings } from '../server/tls.ts';
import type { EngineChoice, ResolvedConfig, ResolvedExtension } from '../config/types.ts';
import type { ServerExtensionFacts } from '../extensions/plan.ts';
import type { MigrationPlan } from '../migrations/plan.ts';
import type { NixExtensionsCheck } from '../nix/step.ts';
import type { PostgresBinaries } from '../server/binaries.ts';
import type { ClusterStatus } from '../server/cluster.ts';
import type { FallbackRandom } from '../config/types.ts';
import type { Uuidv7Strategy } from '../uuidv7/strategy.ts';
import type { RoleFacts } from '../server/privileges.ts';
import type { ServerSetting } from '../server/setting-values.ts';

/** An error met while gathering, kept as data (a PgstrapError's fields, or a foreign error's message). */
export interface ErrorFact {
  code: string;
  message: string;
  details: string[];
  remedy: string | undefined;
}

/** The shell and Node the doctor runs in. */
export interface EnvironmentFacts {
  /** IN_NIX_SHELL (`impure`/`pure` inside `nix develop`). */
  nixShell: string | undefined;
  /** DIRENV_DIR, set while direnv has loaded an .envrc. */
  direnvDir: string | undefined;
  nodeVersion: string;
  /** `engines.node` of the project's package.json, and that file. */
  nodeRange: string | undefined;
  packageJson: string | undefined;
  /** What `nix --version` reports (undefined: no Nix on PATH). */
  nixVersion?: string | undefined;
  /** `engines.node` of pgstrap's own package.json, the Node versions it supports; absent when that is the project's package.json. */
  pgstrapNodeRange?: string | undefined;
}

/** Server binaries pgstrap found. */
export type BinariesFact = PostgresBinaries;

/** A file's presence and mode. */
export interface FileFact {
  path: string;
  exists: boolean;
  /** Permission bits (mode & 0o777). */
  mode: number | undefined;
  uid: number | undefined;
}

/** What postmaster.pid, PG_VERSION and the file system say about a managed cluster. */
export interface ClusterFacts extends Pick<ClusterStatus, 'initialised' | 'dataMajor' | 'running' | 'pid' | 'port' | 'stalePid' | 'logFile'> {
  dataDir: FileFact;
  /** The log's last lines, read only when the server is down. */
  logTail: string[];
  configuredPort: number;
  /** Where that port came from: the config, or derived from the project's folder (absent: the config). */
  portSource?: 'config' | 'project-folder' | undefined;
  /** Whether nothing listens on configuredPort on the loopback addresses; undefined when not probed (our server holds it). */
  portFree: boolean | undefined;
  /** The loopback address where something else holds it (127.0.0.1 or ::1), when it is taken. */
  portTakenOn?: string | undefined;
  /** Who holds the port, when it is taken and that can be found. */
  portHolder: string | undefined;
  /** The user the data directory must belong to. */
  owner: { uid: number; name: string };
  /** Settings pgstrap.conf holds, and what the config wants there now. */
  managedConf: Record<string, string>;
  desiredConf: Record<string, string>;
  /** Room on the file system of the data directory (of the folder that will hold it, before setup); undefined when unreadable. */
  disk?: { dir: string; free: number; total: number } | undefined;
}

/** The outcome of one connection attempt. */
export interface ConnectionFact {
  ok: boolean;
  /** Where it connected, without secrets. */
  where: string;
  error: string | undefined;
  /** SQLSTATE of the error, when the server sent one (28P01: bad password, 3D000: no such database). */
  sqlState: string | undefined;
  /** Connected, but a question failed (ok stays true: the server was reached). */
  readError?: string | undefined;
  /** The fix, when the failure has one of its own (TLS: the CA file, the host name). */
  remedy?: string | undefined;
}

/** One server setting as the running server has it. */
export type { ServerSetting };

/** What the maintenance connection learnt about the server. */
export interface ServerFacts {
  connection: ConnectionFact;
  version: string | undefined;
  versionNum: number | undefined;
  /** SHOW shared_preload_libraries, split; undefined when the role may not read it (no pg_read_all_settings). */
  preloaded: string[] | undefined;
  /** The connected role and what it may do. */
  role?: RoleFacts | undefined;
  /** The settings the config asks for, as in effect. */
  settings: ServerSetting[];
  /** What the extension planner needs to know about the server (available, versions, settings, plugins). */
  extensions: ServerExtensionFacts | undefined;
  /** A server reached by URL: why its sessions are not pinned to a backend (PgBouncer in transaction mode), and whether migrations have a direct URL. */
  pooling?: { unpinned: string | undefined; direct: boolean } | undefined;
  /** A server reached by a URL that asks for TLS: what it asked for, and the TLS version in use (undefined: none). */
  tls?: { settings: TlsSettings; protocol: string | undefined } | undefined;
}

/** How uuidv7() is provided in one database, and whether it works. */
export interface Uuidv7Fact {
  /** The strategy setup recorded in the database, if any. */
  strategy: Uuidv7Strategy | undefined;
  /** Which of pgstrap's SQL fallbacks uuidv7() is, when it is one. */
  fallbackRandom: FallbackRandom | undefined;
  /** Two ids from a quick call; undefined when the call failed. */
  sample: string[] | undefined;
  error: string | undefined;
}

/** Migration state of one database (the built-in runner's plan). */
export interface MigrationFact {
  /** False when the config hands migrations to the app's own command only. */
  builtIn: boolean;
  /** The runner's plan (empty when the built-in runner is off); undefined when it could not be read. */
  plan: MigrationPlan | undefined;
  /** Why the files could not be read (the same error `migrate` would stop on), with its remedy. */
  error: string | undefined;
  remedy?: string | undefined;
}

/** One active pg_cron job and its last recorded run. */
export interface CronJobFact {
  id: number;
  name: string | undefined;
  schedule: string;
  command: string;
  /** The role the job runs as (pg_cron's worker connects as it). */
  user: string;
  /** `succeeded`, `failed`, `running`, `starting`...; undefined when no run is recorded yet. */
  lastStatus: string | undefined;
  lastMessage: string | undefined;
  /** ISO time the last run started; undefined when it never started (a failed connection). */
  lastStart: string | undefined;
}

/** pg_cron in the database that has it installed. */
export interface CronFact {
  /** cron.host: where pg_cron connects for jobs scheduled from now on, without background workers. */
  host: string | undefined;
  /** cron.use_background_workers: jobs run in background workers, with no connection to make. */
  backgroundWorkers: boolean;
  /** False when cron.job_run_details does not exist (pg_cron before 1.3). */
  runsRecorded: boolean;
  jobs: CronJobFact[];
  error: string | undefined;
}

/** Everything about one configured database. */
export interface DatabaseFacts {
  name: string;
  connection: ConnectionFact;
  /** pg_extension: name -> version and schema. */
  installed: ReadonlyMap<string, { version: string; schema: string }>;
  uuidv7: Uuidv7Fact | undefined;
  migrations: MigrationFact | undefined;
  /** pg_cron's jobs, read where pg_cron is installed (undefined elsewhere). */
  cron?: CronFact | undefined;
}

/** The flake's extension list (nix/extensions.json) against the config: the check setup and the tests use. */
export type FlakeFact = NixExtensionsCheck;

/** Everything a doctor run observed; absent parts were not reachable from what came before. */
export interface DoctorFacts {
  environment: EnvironmentFacts;
  config: { ok: true; value: ResolvedConfig } | { ok: false; error: ErrorFact };
  /** The declared extensions in terms of the target's databases (an external URL may name its own). */
  declared: ResolvedExtension[];
  flake: FlakeFact | undefined;
  /** The engine in use, or why none could be chosen. */
  engine:
    | {
        ok: true;
        kind: 'system' | 'embedded' | 'external';
        description: string;
        choice: string;
        binaries: BinariesFact | undefined;
        /** False when an external URL names its database, so pgstrap may not create databases there. */
        mayCreateDatabases: boolean;
      }
    | { ok: false; error: ErrorFact }
    | undefined;
  /** The engine asked for (--engine, else the config's): the embedded binaries matter for auto and embedded only. */
  engineChoice: EngineChoice;
  /** The embedded binaries for the configured major (the fallback when no system PostgreSQL fits). */
  embedded: { ok: true; binaries: BinariesFact } | { ok: false; error: ErrorFact } | undefined;
  cluster: ClusterFacts | undefined;
  /** Files holding the superuser's password (managed clusters). */
  passwordFiles: FileFact[];
  /** The process's uid: password files must be readable by whoever runs pgstrap. */
  uid: number;
  server: ServerFacts | undefined;
  /** TCP with the password (managed clusters only). */
  tcp: ConnectionFact | undefined;
  databases: DatabaseFacts[];
}
