/**
 * Finding a psql that fits a server: the Nix one (PG_BIN or PATH), the managed binaries' own, or a system one
 * of the same or a newer major (psql talks to older servers, not reliably to newer ones). The embedded engine
 * ships none.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { parseServerVersion } from './binaries.ts';
import { findOnPath, run } from './process.ts';

/** A psql that was looked at, with the major it reported (undefined: it did not answer). */
export interface PsqlCandidate {
  path: string;
  origin: string;
  major: number | undefined;
  version: string | undefined;
}

/** Fixed places system packages put psql: Debian/Ubuntu, Homebrew's libpq, /usr/local. */
function systemPlaces(): Array<{ path: string; origin: string }> {
  const debian = '/usr/lib/postgresql';
  let majors: string[] = [];
  try {
    majors = fs.readdirSync(debian).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  } catch {
    // Not Debian.
  }
  return [
    ...majors.map((m) => ({ path: path.join(debian, m, 'bin', 'psql'), origin: `Debian postgresql-client-${m}` })),
    { path: '/usr/bin/psql', origin: 'the system' },
    { path: '/usr/local/bin/psql', origin: '/usr/local' },
    { path: '/opt/homebrew/opt/libpq/bin/psql', origin: 'Homebrew libpq' },
    { path: '/usr/local/opt/libpq/bin/psql', origin: 'Homebrew libpq' },
  ];
}

/** The psqls to try, in order of preference, without duplicates. */
export function psqlPlaces(binDir: string | undefined, env: NodeJS.ProcessEnv = process.env): Array<{ path: string; origin: string }> {
  const places: Array<{ path: string; origin: string }> = [];
  if (env.PG_BIN) places.push({ path: path.join(env.PG_BIN, 'psql'), origin: 'PG_BIN (nix develop)' });
  if (binDir) places.push({ path: path.join(binDir, 'psql'), origin: "the server's own bin directory" });
  const onPath = findOnPath('psql', env.PATH);
  if (onPath) places.push({ path: onPath, origin: 'PATH' });
  places.push(...systemPlaces());
  const seen = new Set<string>();
  return places.filter((p) => {
    let real: string;
    try {
      real = fs.realpathSync(p.path);
    } catch {
      return false;
    }
    if (seen.has(real)) return false;
    seen.add(real);
    return true;
  });
}

/** The first candidate of the server's major, else the first newer one; undefined when none fits. */
export function choosePsql(candidates: readonly PsqlCandidate[], serverMajor: number): PsqlCandidate | undefined {
  return candidates.find((c) => c.major === serverMajor) ?? candidates.find((c) => c.major !== undefined && c.major > serverMajor);
}

/** Asks each place its version (`psql --version`). */
export async function probePsqls(places: ReadonlyArray<{ path: string; origin: string }>): Promise<PsqlCandidate[]> {
  return Promise.all(
    places.map(async (p) => {
      const result = await run(p.path, ['--version'], { timeoutMs: 10_000, reject: false });
      const parsed = result.exitCode === 0 ? parseServerVersion(String(result.stdout)) : undefined;
      return { ...p, major: parsed?.major, version: parsed?.version };
    }),
  );
}

/** A psql for a server of `serverMajor`, or an error naming what was found and where to get one. */
export async function requirePsql(serverMajor: number, binDir: string | undefined, env: NodeJS.ProcessEnv = process.env): Promise<PsqlCandidate> {
  const candidates = await probePsqls(psqlPlaces(binDir, env));
  const chosen = choosePsql(candidates, serverMajor);
  if (chosen) return chosen;
  throw new PgstrapError({
    code: 'psql.missing',
    message: `no psql ${serverMajor} or newer was found for this PostgreSQL ${serverMajor} server`,
    details: candidates.length === 0
      ? ['looked in PG_BIN, PATH, /usr/lib/postgresql/*/bin, /usr/bin, /usr/local/bin and Homebrew libpq: no psql']
      : candidates.map((c) => `${c.path} (${c.origin}): ${c.version === undefined ? 'did not answer --version' : `psql ${c.version}, older than the server`}`),
    remedy: `Install a client of major ${serverMajor} or newer: \`apt install postgresql-client-${serverMajor}\` (Debian/Ubuntu, from apt.postgresql.org), \`nix develop\` (the flake's shell has psql), or \`brew install libpq\` (macOS).`,
    exit: ExitCode.environment,
  });
}
