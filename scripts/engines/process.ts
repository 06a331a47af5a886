/** The one way pgstrap runs a program: `[program, args]` data, never a shell string. */
import { execa, type Options, type Result } from 'execa';
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
  return execa(program, args, execaOptions) as Promise<Result>;
}
