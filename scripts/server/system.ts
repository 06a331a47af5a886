/**
 * The `system` engine's binaries: `PG_BIN` (what `nix develop` sets), else `pg_config --bindir` on PATH.
 */
import fs from 'node:fs';
import path from 'node:path';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { missingPrograms, probeVersion, type PostgresBinaries } from './binaries.ts';
import { findOnPath, run } from './process.ts';
import { fileIdentity, keptAnswer } from './program-answers.ts';

/** Where a system PostgreSQL was looked for, for messages. */
export interface SystemSearch {
  found: PostgresBinaries | undefined;
  /** Why nothing usable was found (empty when found). */
  reasons: string[];
}

/**
 * `pg_config --bindir`, kept in `answersFile` while pg_config is the same file and the folder that holds the
 * installations beside the answer (`/usr/lib/postgresql` for `/usr/lib/postgresql/15/bin`) is unchanged:
 * Debian's pg_config is a script that answers with the newest version installed there, so installing
 * another one changes that folder and the question is asked again. A wrapper that chooses otherwise (by an
 * environment variable, say) is asked each time only if its answer's folder changes: PG_BIN, which needs no
 * pg_config, is the way to pin one.
 */
async function pgConfigBindir(pgConfig: string, answersFile: string | undefined): Promise<string | undefined> {
  const installations = (binDir: string) => path.dirname(path.dirname(binDir));
  const parse = (kept: string) => JSON.parse(kept) as { binDir: string; installations: string | null };
  const answer = await keptAnswer(
    answersFile,
    `pg_config --bindir ${pgConfig}`,
    fileIdentity(pgConfig),
    async () => {
      const result = await run(pgConfig, ['--bindir'], { timeoutMs: 10_000, reject: false });
      if (result.exitCode !== 0) return undefined;
      const binDir = String(result.stdout).trim();
      return JSON.stringify({ binDir, installations: fileIdentity(installations(binDir)) ?? null });
    },
    (kept) => {
      const { binDir, installations: seen } = parse(kept);
      return (fileIdentity(installations(binDir)) ?? null) === seen;
    },
  );
  return answer === undefined ? undefined : parse(answer).binDir;
}

/**
 * Finds the system PostgreSQL, whatever its major; `reasons` explains a miss. `answersFile` keeps what
 * pg_config and postgres answered (program-answers.ts), so a warm run starts neither.
 */
export async function findSystemBinaries(env: NodeJS.ProcessEnv = process.env, answersFile?: string): Promise<SystemSearch> {
  const reasons: string[] = [];
  const candidates: Array<{ binDir: string; origin: string }> = [];
  if (env.PG_BIN) candidates.push({ binDir: env.PG_BIN, origin: 'PG_BIN' });
  else {
    const pgConfig = findOnPath('pg_config', env.PATH);
    if (pgConfig) {
      const binDir = await pgConfigBindir(pgConfig, answersFile);
      if (binDir !== undefined) candidates.push({ binDir, origin: `pg_config on PATH (${pgConfig})` });
      else reasons.push(`${pgConfig} --bindir failed`);
    } else reasons.push('PG_BIN is not set and no pg_config is on PATH');
  }
  for (const { binDir, origin } of candidates) {
    if (!fs.existsSync(binDir)) {
      reasons.push(`${origin} points to ${binDir}, which does not exist`);
      continue;
    }
    const missing = missingPrograms(binDir);
    if (missing.length > 0) {
      reasons.push(`${binDir} (from ${origin}) lacks ${missing.join(', ')}: it holds client tools only`);
      continue;
    }
    const version = await probeVersion(binDir, answersFile);
    if (!version) {
      reasons.push(`${binDir}/postgres --version did not answer`);
      continue;
    }
    return { found: { engine: 'system', binDir, origin, ...version }, reasons };
  }
  return { found: undefined, reasons };
}

/** The system binaries for `major`, or an error that says what was found instead. */
export async function requireSystemBinaries(major: number, env: NodeJS.ProcessEnv = process.env, answersFile?: string): Promise<PostgresBinaries> {
  const { found, reasons } = await findSystemBinaries(env, answersFile);
  if (!found) {
    throw new PgstrapError({
      code: 'engine.system-missing',
      message: 'engine "system" is configured, but no PostgreSQL server binaries were found',
      details: reasons,
      remedy: 'Enter the dev shell (nix develop), set PG_BIN to a directory with initdb, pg_ctl and postgres, or set engine: "auto".',
      exit: ExitCode.environment,
    });
  }
  if (found.major !== major) {
    throw new PgstrapError({
      code: 'engine.version-mismatch',
      message: `the system PostgreSQL is ${found.version} (${found.binDir}, from ${found.origin}); the config wants major ${major}`,
      remedy: `Point PG_BIN at a PostgreSQL ${major} bin directory (nix develop does), set postgresMajor: ${found.major}, or use engine: "embedded".`,
      exit: ExitCode.environment,
    });
  }
  return found;
}
