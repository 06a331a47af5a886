/** Where a managed cluster keeps its files. Pure: callers decide whether to relocate. */
import { createHash } from 'node:crypto';
import path from 'node:path';
import type { ResolvedConfig } from '../config/types.ts';

/** Every path of a project-local cluster. */
export interface ClusterLayout {
  /** Holds data/, run/, log/ and staged binaries: stateDir, or a relocated folder. */
  runtimeDir: string;
  dataDir: string;
  socketDir: string;
  logFile: string;
  /** The superuser's TCP password, 0600; always in stateDir, owned by whoever runs pgstrap. */
  passwordFile: string;
  /** A libpq password file for DATABASE_URL-less clients (PGPASSFILE), 0600. */
  pgpassFile: string;
  /** What PostgreSQL's programs answered (`--version`, `--describe-config`, pg_config), kept per program, in stateDir. */
  programAnswers: string;
  /** True when runtimeDir is not stateDir because the server user cannot reach the project. */
  relocated: boolean;
}

/** Unix socket paths are limited to 104 bytes on macOS (108 on Linux), NUL included. */
export const MAX_SOCKET_PATH_BYTES = 103;

/** The socket file PostgreSQL creates in `dir` for `port`. */
export function socketPath(dir: string, port: number): string {
  return path.join(dir, `.s.PGSQL.${port}`);
}

/** A short stable tag for a project folder, used in the name of its relocated state folder. */
export function projectTag(projectDir: string): string {
  return createHash('sha256').update(projectDir).digest('hex').slice(0, 10);
}

/** Where the socket goes unless a short folder must stand in for it: socketDir, or `<runtimeDir>/run`. */
export function preferredSocketDir(config: ResolvedConfig, runtimeDir: string): string {
  return config.socketDir ?? path.join(runtimeDir, 'run');
}

/** True when a socket in `dir` fits the platform's path limit for any port. */
export function socketFits(dir: string): boolean {
  return Buffer.byteLength(socketPath(dir, 65535)) <= MAX_SOCKET_PATH_BYTES;
}

/** Where the answers of PostgreSQL's programs are kept (server/program-answers.ts). */
export function programAnswersFile(stateDir: string): string {
  return path.join(stateDir, 'programs.json');
}

/**
 * The layout for `config`. `relocateTo` moves runtime state out of a folder the server user cannot
 * reach (a checkout under a 0700 home when running as root); `shortSocketDir` stands in for a socket
 * folder whose path is too long (a private folder the caller made and recorded).
 */
export function clusterLayout(config: ResolvedConfig, options: { relocateTo?: string | undefined; shortSocketDir?: string | undefined } = {}): ClusterLayout {
  const runtimeDir = options.relocateTo ?? config.stateDir;
  return {
    runtimeDir,
    dataDir: config.dataDir ?? path.join(runtimeDir, 'data'),
    socketDir: options.shortSocketDir ?? preferredSocketDir(config, runtimeDir),
    logFile: path.join(runtimeDir, 'log', 'postgresql.log'),
    passwordFile: path.join(config.stateDir, 'password'),
    pgpassFile: path.join(config.stateDir, 'pgpass'),
    programAnswers: programAnswersFile(config.stateDir),
    relocated: options.relocateTo !== undefined,
  };
}
