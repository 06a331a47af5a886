/**
 * A project-local cluster's lifecycle: initdb once, start with a readiness wait, stop, status.
 * Every server program runs as the server user when pgstrap runs as root.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, messageOf, PgstrapError } from '../shared/errors.ts';
import { socketPath, type ClusterLayout } from './layout.ts';
import { fullDiskRemedy, saysDiskFull } from './disk.ts';
import { isDiskLow } from './free-space.ts';
import { scramVerifier } from './scram.ts';
import { INCLUDE_LINE, MANAGED_CONF, parseManagedConf, renderManagedConf } from './conf.ts';
import type { PostgresBinaries } from './binaries.ts';
import { currentUid, lstatOrUndefined } from './ownership.ts';
import { describePortHolder, loopbackHolding, loopbackHosts, portHolderPid } from './port.ts';
import { isProcessAlive, run, startDetached } from './process.ts';
import type { ServerUser } from './server-user.ts';
import { writeFileAtomic } from '../shared/write-file.ts';

/** What `postmaster.pid` says, with whether that process is really alive. */
export interface ClusterStatus {
  initialised: boolean;
  /** Major version recorded in PG_VERSION. */
  dataMajor: number | undefined;
  running: boolean;
  pid: number | undefined;
  /** Port and socket directory the running server listens on (they may differ from the config's). */
  port: number | undefined;
  socketDir: string | undefined;
  /** A postmaster.pid left behind by a server that is gone (crash, kill -9). */
  stalePid: number | undefined;
  /** A live standalone backend (initdb, `postgres --single`) holds the data directory: its pid. */
  standalonePid: number | undefined;
  /** PG_VERSION is there but pgstrap never finished making the cluster (an interrupted initdb of an older pgstrap). */
  partial: boolean;
  dataDir: string;
  logFile: string;
}

const START_TIMEOUT_SECONDS = 60;
const STOP_TIMEOUT_SECONDS = 60;

/** A live server that holds this project's socket or port, and the data directory it was started on. */
export interface LiveServer {
  pid: number;
  dataDir: string | undefined;
  /** How it was found: `socket lock file <path>` or `port <n>`. */
  foundBy: string;
}

/** True when `pid` is a live process that looks like a PostgreSQL server. */
function isPostmaster(pid: number): boolean {
  if (!isProcessAlive(pid)) return false;
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'postgres' || comm === 'postmaster';
  } catch {
    // No /proc (macOS), or another user's process (only a postmaster of another user would hold our data directory).
    return true;
  }
}

/** A file's size in bytes, 0 when it does not exist. */
function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** What a file holds from byte `offset` on ('' when it does not exist). */
function readFrom(file: string, offset: number): string {
  try {
    return fs.readFileSync(file).subarray(offset).toString('utf8');
  } catch {
    return '';
  }
}

/** A file's lines, or undefined when it does not exist (yet). */
function readLines(file: string): string[] | undefined {
  try {
    return fs.readFileSync(file, 'utf8').split('\n');
  } catch {
    return undefined;
  }
}

/** The last `count` lines of a log file, for error messages. */
export function tailFile(file: string, count = 15): string[] {
  try {
    const lines = fs.readFileSync(file, 'utf8').trimEnd().split('\n');
    return lines.slice(-count);
  } catch {
    return [];
  }
}

export class Cluster {
  constructor(
    readonly binaries: PostgresBinaries,
    readonly layout: ClusterLayout,
    readonly user: ServerUser | undefined,
    readonly superuser: string,
  ) {}

  private program(name: string): string {
    return path.join(this.binaries.binDir, name);
  }

  /**
   * Creates `dir` (0700) owned by the server user. A folder already there is left as it is unless it is
   * already the server user's: pgstrap never takes over a folder it did not make (socketDir: '/tmp').
   * As root, the folder is made and given to the server user under a staging name, then renamed into place:
   * a run killed between the mkdir and the chown would otherwise leave a root-owned folder the server cannot
   * write to (its socket lock file: Permission denied), which the rule above then never mends.
   */
  private ensurePrivateDir(dir: string): void {
    fs.mkdirSync(path.dirname(dir), { recursive: true, mode: 0o755 });
    if (!fs.existsSync(dir)) {
      const staging = fs.mkdtempSync(path.join(path.dirname(dir), `.staging-${path.basename(dir)}-`));
      fs.chmodSync(staging, 0o700);
      if (this.user) fs.chownSync(staging, this.user.uid, this.user.gid);
      try {
        fs.renameSync(staging, dir);
        return;
      } catch {
        // Made meanwhile by someone else: judged below as any folder already there.
        fs.rmSync(staging, { recursive: true, force: true });
      }
    }
    const stat = fs.lstatSync(dir);
    const owner = this.user?.uid ?? currentUid();
    if (stat.isDirectory() && !stat.isSymbolicLink() && stat.uid === owner && (stat.mode & 0o077) !== 0) fs.chmodSync(dir, 0o700);
  }

  /** Writes a file the server user owns. */
  private writeOwned(file: string, content: string, mode = 0o600): void {
    fs.writeFileSync(file, content, { mode });
    if (this.user) fs.chownSync(file, this.user.uid, this.user.gid);
  }

  /**
   * True when the data directory holds a cluster pgstrap finished making: initdb's PG_VERSION, the include
   * line in postgresql.conf and the managed file, all written before the folder was moved into place.
   */
  isInitialised(): boolean {
    return fs.existsSync(path.join(this.layout.dataDir, 'PG_VERSION')) && fs.existsSync(path.join(this.layout.dataDir, MANAGED_CONF)) && this.includesManagedConf();
  }

  private includesManagedConf(): boolean {
    try {
      return fs.readFileSync(path.join(this.layout.dataDir, 'postgresql.conf'), 'utf8').includes(INCLUDE_LINE);
    } catch {
      return false;
    }
  }

  /**
   * A live server that holds this cluster's socket or port while its data directory is not where it was
   * (deleted or replaced under it): the socket lock file names its pid and data directory, and on Linux
   * the port's holder shows its working directory, which PostgreSQL sets to its data directory.
   */
  async liveServerElsewhere(port: number): Promise<LiveServer | undefined> {
    const lock = this.readSocketLock(port);
    if (lock && Number.isInteger(lock.pid) && lock.pid > 0 && isPostmaster(lock.pid)) {
      return { pid: lock.pid, dataDir: lock.dataDir, foundBy: `socket lock file ${lock.file}` };
    }
    const pid = await portHolderPid(port);
    if (pid === undefined) return undefined;
    let cwd: string | undefined;
    try {
      cwd = fs.readlinkSync(`/proc/${pid}/cwd`).replace(/ \(deleted\)$/, '');
    } catch {
      return undefined;
    }
    return cwd === this.layout.dataDir && isPostmaster(pid) ? { pid, dataDir: cwd, foundBy: `port ${port}` } : undefined;
  }

  /** Reads PG_VERSION and postmaster.pid. */
  status(): ClusterStatus {
    const { dataDir, logFile } = this.layout;
    const base: ClusterStatus = {
      initialised: this.isInitialised(),
      dataMajor: undefined,
      running: false,
      pid: undefined,
      port: undefined,
      socketDir: undefined,
      stalePid: undefined,
      standalonePid: undefined,
      partial: false,
      dataDir,
      logFile,
    };
    const lines = readLines(path.join(dataDir, 'postmaster.pid'));
    const pid = Number(lines?.[0]);
    // PostgreSQL writes a negative pid for a standalone backend: alive, and never to be removed.
    if (lines && Number.isInteger(pid) && pid < 0 && isPostmaster(-pid)) return { ...base, standalonePid: -pid, partial: !base.initialised };
    if (!base.initialised) return { ...base, partial: fs.existsSync(path.join(dataDir, 'PG_VERSION')) };
    base.dataMajor = Number(fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim());
    if (!lines) return base;
    if (!Number.isInteger(pid) || pid <= 0 || !isPostmaster(pid)) return { ...base, stalePid: Number.isInteger(pid) ? pid : -1 };
    return { ...base, running: true, pid, port: Number(lines[3]) || undefined, socketDir: lines[4]?.trim() || undefined };
  }

  /**
   * Makes the cluster where nothing can see it half made: initdb into a private folder beside the data
   * directory, the include line and the managed file written there, the password file saved, and only
   * then the folder renamed into place. A run killed at any point leaves no data directory, only a
   * leftover folder the next run removes. initdb gets a SCRAM verifier, never the password itself.
   *
   * `accepted` is a check that runs meanwhile (the server's parse of the settings about to be written): the
   * folder moves into place only once it has passed; when it fails, initdb is stopped, nothing is left and
   * its error is thrown. initdb skips its own flush to disk: `initdb --sync-only` does it once the folder is
   * in place, while the server starts and the run goes on; the run waits for it at its end (`synced`).
   */
  async initialise(listen: Record<string, string>, accepted: Promise<void> = Promise.resolve()): Promise<void> {
    const abort = new AbortController();
    const check = accepted.catch((error: unknown) => {
      abort.abort();
      throw error;
    });
    // Handled below, after initdb; this keeps its failure from counting as unhandled meanwhile.
    check.catch(() => {});
    const { dataDir, passwordFile } = this.layout;
    if (this.isInitialised()) return;
    if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
      throw new PgstrapError({
        code: 'cluster.data-dir-not-empty',
        message: `${dataDir} exists and is not empty, but holds no cluster pgstrap made (no PG_VERSION and pgstrap.conf)`,
        remedy: 'Move its contents away, or set dataDir in the config to another folder; pgstrap never deletes data.',
        exit: ExitCode.cluster,
      });
    }
    this.ensurePrivateDir(path.dirname(this.layout.logFile));
    this.removeInitdbLeftovers();
    const staging = fs.mkdtempSync(path.join(path.dirname(dataDir), `.${path.basename(dataDir)}.initdb-`));
    fs.chmodSync(staging, 0o700);
    if (this.user) fs.chownSync(staging, this.user.uid, this.user.gid);
    const stagedData = path.join(staging, 'data');
    const password = randomBytes(18).toString('base64url');
    // initdb reads the password as the server user from a file: it gets a verifier, useless to log in with.
    const pwfile = path.join(staging, 'verifier');
    this.writeOwned(pwfile, `${scramVerifier(password, randomBytes(16))}\n`);
    let failed: unknown;
    try {
      await run(
        this.program('initdb'),
        [
          '--pgdata', stagedData,
          '--username', this.superuser,
          `--pwfile=${pwfile}`,
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          '--encoding=UTF8',
          '--no-locale',
          '--no-sync',
          '--no-instructions',
        ],
        { as: this.user, timeoutMs: 300_000, signal: abort.signal },
      );
    } catch (error) {
      failed = error;
    }
    try {
      await check;
    } catch (error) {
      // A stopped initdb removes what it made as it exits (and its bootstrap server may still be writing):
      // retried, so that a folder emptied under us is not an error of its own.
      fs.rmSync(staging, { recursive: true, force: true, maxRetries: 10, retryDelay: 50 });
      throw error;
    }
    if (failed !== undefined) {
      fs.rmSync(staging, { recursive: true, force: true });
      const stderr = String((failed as { stderr?: unknown }).stderr ?? '').trim();
      throw new PgstrapError({
        code: 'cluster.initdb-failed',
        message: `initdb failed for ${dataDir}`,
        details: stderr ? stderr.split('\n').slice(-10) : [messageOf(failed)],
        remedy: saysDiskFull(stderr)
          ? fullDiskRemedy(path.dirname(dataDir), 'run `npm run setup` again (a new cluster takes about 40 MB; nothing was left in place)')
          : 'Read the lines above; nothing was left in place, so `npm run setup` can simply run again.',
        exit: ExitCode.cluster,
        cause: failed,
      });
    }
    fs.rmSync(pwfile, { force: true });
    fs.appendFileSync(path.join(stagedData, 'postgresql.conf'), `\n${INCLUDE_LINE}\n`);
    this.writeOwned(path.join(stagedData, MANAGED_CONF), renderManagedConf(listen));
    fs.mkdirSync(path.dirname(passwordFile), { recursive: true });
    writeFileAtomic(passwordFile, `${password}\n`, { mode: 0o600, stable: true });
    // An empty data directory the user made is replaced by the finished one (rename onto an empty folder).
    fs.renameSync(stagedData, dataDir);
    fs.rmSync(staging, { recursive: true, force: true });
    this.syncing = run(this.program('initdb'), ['--sync-only', '--pgdata', dataDir], { as: this.user, timeoutMs: 300_000 }).then(
      () => undefined,
      (error: unknown) => error,
    );
  }

  /** initdb --sync-only on a cluster this process just made, until synced() has seen it end: its failure, if any. */
  private syncing: Promise<unknown> | undefined;

  /** Waits for the flush to disk of a cluster initialise() made in this process (if any); throws when it failed. */
  async synced(): Promise<void> {
    const syncing = this.syncing;
    if (syncing === undefined) return;
    const error = await syncing;
    this.syncing = undefined;
    if (error === undefined) return;
    throw new PgstrapError({
      code: 'cluster.sync-failed',
      message: `initdb --sync-only could not flush the new cluster in ${this.layout.dataDir} to disk`,
      details: String((error as { stderr?: unknown }).stderr ?? messageOf(error)).trim().split('\n').slice(-10),
      remedy: `Read the lines above (a full or failing disk?), then run ${this.program('initdb')} --sync-only --pgdata ${this.layout.dataDir} as the server user before trusting the cluster with data.`,
      exit: ExitCode.cluster,
      cause: error,
    });
  }

  /** Removes what a killed initialise left beside the data directory (callers hold the project lock). */
  private removeInitdbLeftovers(): void {
    const parent = path.dirname(this.layout.dataDir);
    const prefix = `.${path.basename(this.layout.dataDir)}.initdb-`;
    for (const name of fs.existsSync(parent) ? fs.readdirSync(parent) : []) {
      if (name.startsWith(prefix)) fs.rmSync(path.join(parent, name), { recursive: true, force: true });
    }
  }

  /**
   * Moves aside a data directory an older, interrupted pgstrap left half made (PG_VERSION without the
   * managed file), so that setup makes it anew; refuses while any server runs on it. Returns where it went.
   */
  setAsidePartial(): string | undefined {
    const status = this.status();
    if (!status.partial || status.standalonePid !== undefined) return undefined;
    const aside = `${this.layout.dataDir}.incomplete-${Date.now()}`;
    fs.renameSync(this.layout.dataDir, aside);
    return aside;
  }

  /** The settings in the managed file now. */
  readManagedConf(): Record<string, string> {
    try {
      return parseManagedConf(fs.readFileSync(path.join(this.layout.dataDir, MANAGED_CONF), 'utf8'));
    } catch {
      return {};
    }
  }

  /** Replaces the managed file. */
  writeManagedConf(settings: Record<string, string>): void {
    this.writeOwned(path.join(this.layout.dataDir, MANAGED_CONF), renderManagedConf(settings));
  }

  /** Removes a postmaster.pid whose server is gone; returns its pid, or undefined if there was none. */
  removeStalePidFile(): number | undefined {
    const status = this.status();
    if (status.stalePid === undefined) return undefined;
    fs.rmSync(path.join(this.layout.dataDir, 'postmaster.pid'), { force: true });
    return status.stalePid;
  }

  /** Removes the socket and its lock file left by a server that is gone; a live server's are refused. */
  /** The socket's lock file for `port` (PostgreSQL writes the server's pid, then its data directory), if there is one. */
  private readSocketLock(port: number): { file: string; socket: string; pid: number; dataDir: string | undefined } | undefined {
    const socket = socketPath(this.layout.socketDir, port);
    const lines = readLines(`${socket}.lock`);
    return lines && { file: `${socket}.lock`, socket, pid: Number(lines[0]), dataDir: lines[1]?.trim() || undefined };
  }

  private removeStaleSocket(port: number): void {
    const lock = this.readSocketLock(port);
    if (lock === undefined) {
      // A socket without its lock file belongs to no server PostgreSQL would still start.
      const socket = socketPath(this.layout.socketDir, port);
      if (lstatOrUndefined(socket)?.isSocket()) fs.rmSync(socket, { force: true });
      return;
    }
    const pid = lock.pid;
    if (Number.isInteger(pid) && pid !== 0 && isPostmaster(Math.abs(pid))) {
      throw new PgstrapError({
        code: 'cluster.socket-in-use',
        message: `a server (pid ${Math.abs(pid)}, data directory ${lock.dataDir ?? 'unknown'}) holds the socket ${lock.socket}`,
        remedy: `Stop that server (kill -INT ${Math.abs(pid)} asks it for a fast shutdown), or set socketDir or port in the config.`,
        exit: ExitCode.cluster,
      });
    }
    fs.rmSync(lock.file, { force: true });
    fs.rmSync(lock.socket, { force: true });
  }

  /** Starts the server and waits until it accepts connections; a no-op when it runs. */
  async start(port: number): Promise<{ recoveredStalePid: number | undefined }> {
    const status = this.status();
    if (status.running) return { recoveredStalePid: undefined };
    if (!this.isInitialised()) {
      throw new PgstrapError({
        code: 'cluster.not-initialised',
        message: `${this.layout.dataDir} holds no cluster pgstrap finished making${status.standalonePid ? ` (a standalone backend, pid ${status.standalonePid}, is using it)` : ''}`,
        remedy: 'Run npm run setup: it makes the cluster, and moves a half-made one aside.',
        exit: ExitCode.cluster,
      });
    }
    if (status.standalonePid !== undefined) {
      throw new PgstrapError({
        code: 'cluster.standalone-backend',
        message: `a standalone backend (pid ${status.standalonePid}) is using ${this.layout.dataDir}`,
        remedy: `Wait for it to finish, or end it (kill -TERM ${status.standalonePid}), then run npm run db:start.`,
        exit: ExitCode.cluster,
      });
    }
    const recoveredStalePid = this.removeStalePidFile();
    this.ensurePrivateDir(this.layout.socketDir);
    // A lock file left in the socket directory by a killed server blocks the socket; a live server's is refused.
    this.removeStaleSocket(port);
    const hosts = await loopbackHosts();
    const taken = await loopbackHolding(port);
    if (taken !== undefined) {
      const holder = await describePortHolder(port);
      throw new PgstrapError({
        code: 'cluster.port-in-use',
        message: `port ${port} on ${taken} is already in use${holder ? ` by ${holder}` : ''}`,
        remedy: `Stop that process, or set port in the config to a free port (pgstrap's default, 25000-25999, is derived from the project's folder).`,
        exit: ExitCode.cluster,
      });
    }
    this.ensurePrivateDir(path.dirname(this.layout.logFile));
    const logOffset = fileSize(this.layout.logFile);
    // Where to listen is also given on the command line, which outranks every file: whatever a
    // configuration file says, the server listens only where pgstrap says. The server is started as pg_ctl
    // start does it, without pg_ctl: that costs a shell and a `postgres -V` before the server even starts,
    // and its --wait polls every 100 ms where watching postmaster.pid is ready sooner.
    const server = startDetached(
      this.program('postgres'),
      ['-D', this.layout.dataDir, '-c', `listen_addresses=${hosts.join(',')}`, '-p', String(port), '-k', this.layout.socketDir],
      { as: this.user, logFile: this.layout.logFile },
    );
    const failure = await this.waitUntilReady(logOffset, server.exited);
    if (failure !== undefined) {
      const tail = tailFile(this.layout.logFile);
      throw new PgstrapError({
        code: 'cluster.start-failed',
        message: `PostgreSQL did not start (${failure}); the log says:`,
        details: tail,
        remedy: saysDiskFull(tail) || isDiskLow(this.layout.dataDir)
          ? fullDiskRemedy(path.dirname(this.layout.dataDir), 'run npm run db:start')
          : `Fix what the log names (${this.layout.logFile}), then run npm run db:start.`,
        exit: ExitCode.cluster,
      });
    }
    return { recoveredStalePid };
  }

  /**
   * Waits until postmaster.pid says `ready`; returns why it never will (a FATAL in the log, the server
   * gone) or undefined once it accepts connections.
   */
  private async waitUntilReady(logOffset: number, exited: () => string | undefined): Promise<string | undefined> {
    const pidFile = path.join(this.layout.dataDir, 'postmaster.pid');
    const deadline = Date.now() + START_TIMEOUT_SECONDS * 1000;
    while (Date.now() < deadline) {
      const ended = exited();
      if (ended !== undefined) return `the server ${ended}`;
      const lines = readLines(pidFile);
      if (lines) {
        const pid = Number(lines[0]);
        if (lines[7]?.trim() === 'ready' && isPostmaster(pid)) return undefined;
        if (pid > 0 && !isPostmaster(pid)) return `the server (pid ${pid}) exited while starting`;
      }
      // A child's FATAL (pg_cron's launcher before its database exists) does not stop a postmaster that runs.
      const running = lines !== undefined && isPostmaster(Number(lines[0]));
      if (!running && /\b(FATAL|PANIC):/.test(readFrom(this.layout.logFile, logOffset))) return 'it logged a FATAL error';
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return `not ready after ${START_TIMEOUT_SECONDS} s`;
  }

  /**
   * Stops the server (fast mode: active transactions roll back); a no-op when it is down. It sends SIGINT
   * itself, as `pg_ctl stop -m fast` does, and watches postmaster.pid go every 10 ms, where pg_ctl looks
   * every 100 ms.
   */
  async stop(): Promise<boolean> {
    const { running, pid } = this.status();
    if (!running || pid === undefined) return false;
    try {
      process.kill(pid, 'SIGINT');
    } catch (error) {
      // Gone meanwhile: stopped.
      if ((error as NodeJS.ErrnoException).code === 'ESRCH') return true;
      throw new PgstrapError({
        code: 'cluster.stop-failed',
        message: `could not signal the server (pid ${pid}) to stop: ${messageOf(error)}`,
        remedy: `Look at ${this.layout.logFile}; pg_ctl stop -m immediate -D ${this.layout.dataDir} forces it.`,
        exit: ExitCode.cluster,
        cause: error,
      });
    }
    const pidFile = path.join(this.layout.dataDir, 'postmaster.pid');
    const deadline = Date.now() + STOP_TIMEOUT_SECONDS * 1000;
    // The postmaster removes postmaster.pid as it exits, after its children; a pid file of another process means it is gone too.
    while (Number(readLines(pidFile)?.[0]) === pid && isProcessAlive(pid)) {
      if (Date.now() > deadline) {
        throw new PgstrapError({
          code: 'cluster.stop-failed',
          message: `the server (pid ${pid}) did not stop within ${STOP_TIMEOUT_SECONDS} s of a fast shutdown request`,
          remedy: `Look at ${this.layout.logFile}; pg_ctl stop -m immediate -D ${this.layout.dataDir} forces it.`,
          exit: ExitCode.cluster,
        });
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  }
}
