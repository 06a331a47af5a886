/**
 * The one way pgstrap runs a program and collects its output: `[program, args]` data, never a shell
 * string. It uses node:child_process directly: execa's ~140 modules take about 130 ms to load, more than
 * a warm doctor spends on everything else. (Streaming the app's own migrator uses execa: see
 * scripts/migrations/command.ts.)
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { ServerUser } from './server-user.ts';

const requireBuiltin = createRequire(import.meta.url);

/**
 * node:child_process, loaded by the first run: a warm command starts no process, and loading it (with the
 * dgram it loads) cost every command about 7 ms.
 */
function childProcess(): typeof import('node:child_process') {
  return requireBuiltin('node:child_process') as typeof import('node:child_process');
}

export interface RunOptions {
  /** Run as this user (root only); PostgreSQL refuses to run as root. */
  as?: ServerUser | undefined;
  cwd?: string;
  /** Added to (undefined: removed from) this process's environment. */
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
  /** Resolve instead of throwing on a non-zero exit. Default true: throw. */
  reject?: boolean;
  /** Written to the program's standard input. */
  input?: string;
  /** Ends the program (SIGTERM) once aborted; it then counts as failed. */
  signal?: AbortSignal | undefined;
}

/** What a finished program left: its exit code (-1 when it could not start or was killed) and output. */
export interface RunResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

/** A program that exited non-zero (with `reject`), carrying what it printed. */
export class RunError extends Error {
  constructor(
    readonly command: string,
    readonly exitCode: number,
    readonly stdout: string,
    readonly stderr: string,
  ) {
    super(`${command} exited ${exitCode}${stderr ? `: ${stderr.split('\n').at(-1)}` : ''}`);
    this.name = 'RunError';
  }
}

function environment(extra: RunOptions['env']): NodeJS.ProcessEnv | undefined {
  if (!extra) return undefined;
  const env = { ...process.env };
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  return env;
}

/** Runs `program` with `args` and captures its output; throws RunError on a non-zero exit unless `reject: false`. */
export function run(program: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = childProcess().execFile(
      program,
      [...args],
      {
        timeout: options.timeoutMs,
        env: environment(options.env),
        // A directory the server user can enter, so a child started as that user does not fail on a 0700 cwd.
        cwd: options.cwd ?? (options.as ? '/' : undefined),
        maxBuffer: 64 * 1024 * 1024,
        ...(options.signal ? { signal: options.signal } : {}),
        ...(options.as ? { uid: options.as.uid, gid: options.as.gid } : {}),
      },
      (error, stdout, stderr) => {
        const code = (error as { code?: unknown } | null)?.code;
        const exitCode = error === null ? 0 : typeof code === 'number' ? code : -1;
        // Without the final newline, as callers parse it.
        const result = { exitCode, stdout: String(stdout).replace(/\r?\n$/, ''), stderr: String(stderr).replace(/\r?\n$/, '') };
        if (exitCode !== 0 && options.reject !== false) {
          reject(new RunError([program, ...args].join(' '), exitCode, result.stdout, result.stderr || (error?.message ?? '')));
        } else resolve(result);
      },
    );
    if (options.input !== undefined) child.stdin?.end(options.input);
    else child.stdin?.end();
  });
}

/**
 * Starts `program` as a daemon, as `pg_ctl start` does: in a session of its own (no terminal to signal it),
 * standard input from /dev/null, its output appended to `logFile` (owned by `as`), and not waited for.
 * `exited()` says how it ended once it has, e.g. `exited with code 1` (undefined while it runs, or until Node has seen it end).
 */
export function startDetached(program: string, args: readonly string[], options: { as?: ServerUser | undefined; logFile: string }): { exited: () => string | undefined } {
  let ended: string | undefined;
  const log = fs.openSync(options.logFile, 'a', 0o600);
  try {
    if (options.as) fs.fchownSync(log, options.as.uid, options.as.gid);
    const child = childProcess().spawn(program, [...args], {
      detached: true,
      stdio: ['ignore', log, log],
      cwd: options.as ? '/' : undefined,
      ...(options.as ? { uid: options.as.uid, gid: options.as.gid } : {}),
    });
    child.once('error', (error) => (ended = `could not be started: ${error.message}`));
    child.once('exit', (code, signal) => (ended = signal ? `was ended by ${signal}` : `exited with code ${code}`));
    child.unref();
  } finally {
    fs.closeSync(log);
  }
  return { exited: () => ended };
}

/** True when `pid` is a live process, ours or another user's (EPERM: alive, but not ours to signal). */
export function isProcessAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * The first executable `name` in the folders of `pathEnv`, like `which`: a few stat calls, where importing
 * a `which` package cost a tenth of a second on every command that looks for pg_config.
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
