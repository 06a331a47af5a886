/** The one way pgstrap runs a program: `[program, args]` data, never a shell string. */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Options, Result } from 'execa';
import type { ServerUser } from './server-user.ts';

export interface RunOptions {
  /** Run as this user (root only); PostgreSQL refuses to run as root. */
  as?: ServerUser | undefined;
  cwd?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit. */
  reject?: boolean;
  input?: string;
}

/** Runs `program` with `args` and captures its output. */
export async function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<Result> {
  const execaOptions: Options = {
    reject: options.reject ?? true,
    timeout: options.timeoutMs,
    env: options.env,
    // A directory the server user can enter, so a child started as that user does not fail on a 0700 cwd.
    cwd: options.cwd ?? (options.as ? '/' : undefined),
    input: options.input,
    stdin: options.input === undefined ? 'ignore' : undefined,
    ...(options.as ? { uid: options.as.uid, gid: options.as.gid } : {}),
  };
  // Loaded on first use: execa's ~140 modules take 130 ms to load, a fifth of a warm setup.
  const { execa } = await import('execa');
  return execa(program, args, execaOptions) as Promise<Result>;
}

/**
 * The first executable `name` in the folders of `pathEnv`, like `which`: a few stat calls, where importing
 * zx for its `which` cost a tenth of a second on every command that looks for pg_config.
 */
export function findOnPath(name: string, pathEnv: string | undefined = process.env.PATH): string | undefined {
  for (const dir of (pathEnv ?? '').split(path.delimiter)) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      fs.accessSync(file, fs.constants.X_OK);
      if (fs.statSync(file).isFile()) return file;
    } catch {
      // Not here: the next folder.
    }
  }
  return undefined;
}

/** What probe() captured: execa's result fields the probes read. */
export interface ProbeResult {
  /** The exit code; -1 when the program could not start or was killed by the timeout. */
  exitCode: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a short read-only program (`postgres --version`, `pg_config --bindir`, `test -x` as the server user)
 * and captures its output; never throws. It uses node:child_process rather than execa because these run on
 * every command, warm ones included, and loading execa (some 140 modules, about 130 ms) would cost half as
 * much as the whole rest of a warm doctor.
 */
export function probe(program: string, args: readonly string[], options: Pick<RunOptions, 'as' | 'timeoutMs'> = {}): Promise<ProbeResult> {
  return new Promise((resolve) => {
    execFile(
      program,
      [...args],
      {
        timeout: options.timeoutMs,
        // As in run(): a directory the server user can enter.
        cwd: options.as ? '/' : undefined,
        ...(options.as ? { uid: options.as.uid, gid: options.as.gid } : {}),
      },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        const exitCode = error === null ? 0 : typeof code === 'number' ? code : -1;
        // execa strips the final newline; callers parse the text the same way either way.
        resolve({ exitCode, stdout: String(stdout).replace(/\r?\n$/, ''), stderr: String(stderr).replace(/\r?\n$/, '') });
      },
    ).stdin?.end();
  });
}
