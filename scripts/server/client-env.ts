/** What clients need to reach a managed cluster: PG* variables, DATABASE_URL and a pgpass file. */
import fs from 'node:fs';
import type { ResolvedConfig } from '../config/types.ts';
import type { ClusterLayout } from './layout.ts';
import { readPassword } from './target.ts';

/** Escapes a pgpass field (`:` and `\`). */
function pgpassField(value: string): string {
  return value.replace(/([\\:])/g, '\\$1');
}

/** Writes a 0600 libpq password file for TCP connections to the cluster. */
export function writePgpass(layout: ClusterLayout, config: ResolvedConfig): void {
  const password = readPassword(layout);
  if (password === undefined) return;
  const lines = ['127.0.0.1', 'localhost'].map((host) =>
    [host, String(config.port), '*', config.superuser, password].map(pgpassField).join(':'),
  );
  fs.writeFileSync(layout.pgpassFile, `${lines.join('\n')}\n`, { mode: 0o600 });
  fs.chmodSync(layout.pgpassFile, 0o600);
}

/**
 * The variables `npm run env` exports, for `database` (the first configured one by default). DATABASE_URL is
 * TCP to 127.0.0.1 with the password; with `socket`, it names the Unix socket folder instead (`?host=`, which
 * pg, Prisma and libpq read) and holds no password: the socket folder is private and trusted, and nobody
 * else can stand in for the server there while it is down (docs/robustness.md).
 */
export function clientEnvironment(
  layout: ClusterLayout,
  config: ResolvedConfig,
  database: string = config.databases[0]!.name,
  options: { socket?: boolean | undefined } = {},
): Record<string, string> {
  const password = readPassword(layout);
  const url = new URL(`postgresql://${options.socket ? 'localhost' : '127.0.0.1'}:${config.port}/${database}`);
  url.username = config.superuser;
  if (options.socket) url.searchParams.set('host', layout.socketDir);
  else if (password !== undefined) url.password = password;
  return {
    PGHOST: layout.socketDir,
    PGPORT: String(config.port),
    PGUSER: config.superuser,
    PGDATABASE: database,
    PGDATA: layout.dataDir,
    PGPASSFILE: layout.pgpassFile,
    DATABASE_URL: url.toString(),
  };
}

/** Single-quotes a value for POSIX shells. */
export function shellQuote(value: string): string {
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** `export NAME='value'` lines for eval or direnv. */
export function renderExports(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `export ${k}=${shellQuote(v)}`).join('\n');
}

/**
 * Quotes a value for a `.env` file: single quotes, which dotenv, Docker Compose and direnv all read literally
 * (no `$` expansion); a value holding a `'` gets double quotes with `\`, `"`, `$` and newlines escaped.
 */
export function dotenvQuote(value: string): string {
  if (!value.includes("'") && !value.includes('\n')) return `'${value}'`;
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`).replace(/\n/g, '\\n')}"`;
}

/** `NAME='value'` lines for a `.env` file. */
export function renderDotenv(vars: Record<string, string>): string {
  return Object.entries(vars).map(([k, v]) => `${k}=${dotenvQuote(v)}`).join('\n');
}
