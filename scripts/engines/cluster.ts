/**
 * A project-local cluster's lifecycle: initdb once, start with a readiness wait, stop, restart, status.
 * Every server program runs as the server user when pgstrap runs as root.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, messageOf, PgstrapError } from '../core/errors.ts';
import type { ClusterLayout } from '../core/layout.ts';
import { INCLUDE_LINE, MANAGED_CONF, parseManagedConf, renderManagedConf } from '../core/server-settings.ts';
import type { PostgresBinaries } from './binaries.ts';
import { describePortHolder, isPortFree } from './port.ts';
import { run } from './process.ts';
import type { ServerUser } from './server-user.ts';

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
  dataDir: string;
  logFile: string;
}

/** Settings pgstrap always writes: where the server listens. */
export function listenSettings(port: number, socketDir: string): Record<string, string> {
  return { port: String(port), listen_addresses: '127.0.0.1', unix_socket_directories: socketDir };
}

const START_TIMEOUT_SECONDS = 60;

/** True when `pid` is a live process that looks like a PostgreSQL server. */
function isPostmaster(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: alive but another user's; only a postmaster of another user would hold our data directory.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const comm = fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    return comm === 'postgres' || comm === 'postmaster';
  } catch {
    return true; // no /proc (macOS): trust a live pid
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

  /** Creates `dir` (0700) owned by the server user. */
  private ensurePrivateDir(dir: string): void {
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(dir, 0o700);
    if (this.user) fs.chownSync(dir, this.user.uid, this.user.gid);
  }

  /** Writes a file the server user owns. */
  private writeOwned(file: string, content: string, mode = 0o600): void {
    fs.writeFileSync(file, content, { mode });
    if (this.user) fs.chownSync(file, this.user.uid, this.user.gid);
  }

  /** True when the data directory holds a cluster. */
  isInitialised(): boolean {
    return fs.existsSync(path.join(this.layout.dataDir, 'PG_VERSION'));
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
      dataDir,
      logFile,
    };
    if (!base.initialised) return base;
    base.dataMajor = Number(fs.readFileSync(path.join(dataDir, 'PG_VERSION'), 'utf8').trim());
    const lines = readLines(path.join(dataDir, 'postmaster.pid'));
    if (!lines) return base;
    const pid = Number(lines[0]);
    if (!Number.isInteger(pid) || pid <= 0 || !isPostmaster(pid)) return { ...base, stalePid: Number.isInteger(pid) ? pid : -1 };
    return { ...base, running: true, pid, port: Number(lines[3]) || undefined, socketDir: lines[4]?.trim() || undefined };
  }

  /** Runs initdb with trust on the socket and scram-sha-256 on TCP; returns the generated password. */
  async initialise(listen: Record<string, string>): Promise<void> {
    const { dataDir, runtimeDir, passwordFile } = this.layout;
    if (this.isInitialised()) return;
    if (fs.existsSync(dataDir) && fs.readdirSync(dataDir).length > 0) {
      throw new PgstrapError({
        code: 'cluster.data-dir-not-empty',
        message: `${dataDir} exists and is not empty, but holds no PostgreSQL cluster (no PG_VERSION)`,
        remedy: 'Move its contents away, or set dataDir in the config to another folder; pgstrap never deletes data.',
        exit: ExitCode.cluster,
      });
    }
    this.ensurePrivateDir(runtimeDir);
    this.ensurePrivateDir(dataDir);
    this.ensurePrivateDir(path.dirname(this.layout.logFile));
    const password = randomBytes(18).toString('base64url');
    fs.mkdirSync(path.dirname(passwordFile), { recursive: true });
    fs.writeFileSync(passwordFile, `${password}\n`, { mode: 0o600 });
    // initdb reads the password as the server user, so it gets its own short-lived copy.
    const pwfile = path.join(runtimeDir, `.initdb-pw-${process.pid}`);
    this.writeOwned(pwfile, `${password}\n`);
    try {
      await run(
        this.program('initdb'),
        [
          '--pgdata', dataDir,
          '--username', this.superuser,
          `--pwfile=${pwfile}`,
          '--auth-local=trust',
          '--auth-host=scram-sha-256',
          '--encoding=UTF8',
          '--no-locale',
        ],
        { as: this.user, timeoutMs: 300_000 },
      );
    } catch (error) {
      const stderr = String((error as { stderr?: unknown }).stderr ?? '').trim();
      throw new PgstrapError({
        code: 'cluster.initdb-failed',
        message: `initdb failed for ${dataDir}`,
        details: stderr ? stderr.split('\n').slice(-10) : [messageOf(error)],
        remedy: 'Read the lines above; initdb removes what it created, so `npm run setup` can simply run again.',
        exit: ExitCode.cluster,
        cause: error,
      });
    } finally {
      fs.rmSync(pwfile, { force: true });
    }
    fs.appendFileSync(path.join(dataDir, 'postgresql.conf'), `\n${INCLUDE_LINE}\n`);
    this.writeManagedConf(listen);
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

  /** Starts the server and waits until it accepts connections; a no-op when it runs. */
  async start(port: number): Promise<{ recoveredStalePid: number | undefined }> {
    if (this.status().running) return { recoveredStalePid: undefined };
    const recoveredStalePid = this.removeStalePidFile();
    if (!(await isPortFree(port))) {
      const holder = await describePortHolder(port);
      throw new PgstrapError({
        code: 'cluster.port-in-use',
        message: `port ${port} on 127.0.0.1 is already in use${holder ? ` by ${holder}` : ''}`,
        remedy: `Stop that process, or set port in the config to a free port (pgstrap's default is 5400 + the major version).`,
        exit: ExitCode.cluster,
      });
    }
    this.ensurePrivateDir(this.layout.socketDir);
    this.ensurePrivateDir(path.dirname(this.layout.logFile));
    // A lock file left in the socket directory by a killed server blocks the socket.
    for (const name of fs.readdirSync(this.layout.socketDir)) {
      if (name === `.s.PGSQL.${port}.lock` || name === `.s.PGSQL.${port}`) fs.rmSync(path.join(this.layout.socketDir, name), { force: true });
    }
    const logOffset = fileSize(this.layout.logFile);
    // pg_ctl's own --wait polls every 100 ms; watching postmaster.pid ourselves is ready ~80 ms sooner.
    const result = await run(
      this.program('pg_ctl'),
      ['start', '--pgdata', this.layout.dataDir, '--log', this.layout.logFile, '--no-wait', '--silent'],
      { as: this.user, reject: false, timeoutMs: 30_000 },
    );
    const failure = result.exitCode !== 0 ? `pg_ctl exited ${result.exitCode}` : await this.waitUntilReady(logOffset);
    if (failure !== undefined) {
      throw new PgstrapError({
        code: 'cluster.start-failed',
        message: `PostgreSQL did not start (${failure}); the log says:`,
        details: [...String(result.stderr).trim().split('\n').filter(Boolean), ...tailFile(this.layout.logFile)],
        remedy: `Fix what the log names (${this.layout.logFile}), then run npm run db:start.`,
        exit: ExitCode.cluster,
      });
    }
    return { recoveredStalePid };
  }

  /**
   * Waits until postmaster.pid says `ready`; returns why it never will (a FATAL in the log, the server
   * gone) or undefined once it accepts connections.
   */
  private async waitUntilReady(logOffset: number): Promise<string | undefined> {
    const pidFile = path.join(this.layout.dataDir, 'postmaster.pid');
    const deadline = Date.now() + START_TIMEOUT_SECONDS * 1000;
    while (Date.now() < deadline) {
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

  /** Stops the server (fast mode: active transactions roll back); a no-op when it is down. */
  async stop(): Promise<boolean> {
    if (!this.status().running) return false;
    const result = await run(
      this.program('pg_ctl'),
      ['stop', '--pgdata', this.layout.dataDir, '--mode=fast', '--wait', '--timeout=60', '--silent'],
      { as: this.user, reject: false, timeoutMs: 70_000 },
    );
    if (result.exitCode !== 0 && this.status().running) {
      throw new PgstrapError({
        code: 'cluster.stop-failed',
        message: `pg_ctl stop failed: ${String(result.stderr).trim()}`,
        remedy: `Look at ${this.layout.logFile}; pg_ctl stop -m immediate -D ${this.layout.dataDir} forces it.`,
        exit: ExitCode.cluster,
      });
    }
    return true;
  }

  /** Stops and starts, for settings that take effect only at server start. */
  async restart(port: number): Promise<void> {
    await this.stop();
    await this.start(port);
  }
}
