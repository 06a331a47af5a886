/** `pgstrap db:logs [--follow]`: the project cluster's server log (pg_ctl's -l file). */
import fs from 'node:fs';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { openProject, type CommonOptions } from '../pipeline/project.ts';

/** How many lines db:logs prints when --lines is not given. */
const DEFAULT_LINES = 100;
const POLL_MS = 200;

function lineCount(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LINES;
  if (value === 'all') return Number.POSITIVE_INFINITY;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new PgstrapError({ code: 'usage', message: `--lines ${value}: not a whole number (or "all")`, remedy: 'e.g. --lines 500.', exit: ExitCode.usage });
  return n;
}

/** Prints the last lines of the log, then (with --follow) what the server appends, until interrupted. */
export async function logsCommand(options: CommonOptions, flags: { follow: boolean; lines?: string | undefined }): Promise<ExitCode> {
  const count = lineCount(flags.lines);
  const { target, output } = await openProject(options);
  if (target.kind === 'external') {
    throw new PgstrapError({
      code: 'logs.external',
      message: 'the target is an external server: pgstrap does not run it, so it has no log of it',
      remedy: "Read the server's log where it runs (the hosting provider's console, journalctl, or its log_directory).",
      exit: ExitCode.usage,
    });
  }
  const file = target.cluster.status().logFile;
  let offset = 0;
  try {
    const text = fs.readFileSync(file, 'utf8');
    offset = Buffer.byteLength(text);
    const lines = text.replace(/\n$/, '').split('\n');
    const shown = count === Number.POSITIVE_INFINITY ? lines : lines.slice(-count || lines.length + 1);
    if (text !== '' && count > 0) process.stdout.write(`${shown.join('\n')}\n`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    if (!flags.follow) {
      output.say(`${file} does not exist yet: the cluster has not been started (pgstrap start).`);
      return ExitCode.ok;
    }
  }
  if (!flags.follow) return ExitCode.ok;
  output.error(`pgstrap: following ${file} (Ctrl-C stops)`);
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        return;
      }
      if (size < offset) offset = 0; // The file was replaced or truncated: start again from its top.
      if (size === offset) return;
      const fd = fs.openSync(file, 'r');
      try {
        const chunk = Buffer.alloc(size - offset);
        fs.readSync(fd, chunk, 0, chunk.length, offset);
        offset = size;
        process.stdout.write(chunk);
      } finally {
        fs.closeSync(fd);
      }
    }, POLL_MS);
    const stop = () => {
      clearInterval(timer);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  return ExitCode.ok;
}
