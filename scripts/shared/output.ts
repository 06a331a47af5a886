/**
 * How a command talks to the person or program that ran it: the one writer (Output), made once per run by
 * processOutput, the only code that writes to stdout and stderr (listr2's task list aside). Tests inject
 * memoryOutput. Nothing is redacted here: a command redacts what it must (env prints DATABASE_URL whole, on
 * purpose).
 */

import { ExitCode } from './errors.ts';

/** `tasks`: live task list (a terminal); `plain`: a line per step (CI, pipes); `json`: one document on stdout. */
export type OutputMode = 'tasks' | 'plain' | 'json';

/** Where a command's output goes. */
export interface Output {
  /** How the run reports: the mode outputMode picks. */
  mode: OutputMode;
  /** Whether colour codes are welcome on stdout (`out`) and stderr (`err`). */
  colour: { out: boolean; err: boolean };
  /** Human text, a newline added, on stdout; dropped in json mode, where stdout holds the JSON document alone. */
  say(text: string): void;
  /** The run's one JSON document on stdout. */
  json(value: unknown): void;
  /** Text on stderr, a newline added, in every mode: errors, and what a run waits for. */
  error(text: string): void;
}

/** Picks the mode: --json wins; a terminal outside CI gets the live task list. */
export function outputMode(options: { json?: boolean | undefined }, stream: NodeJS.WriteStream = process.stdout, env = process.env): OutputMode {
  if (options.json) return 'json';
  return stream.isTTY && !env.CI ? 'tasks' : 'plain';
}

/** True when colour codes are welcome on `stream`. */
export function useColour(stream: NodeJS.WriteStream = process.stdout, env = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0') return true;
  return Boolean(stream.isTTY);
}

/** The streams processOutput writes to; the process's own by default. */
export interface OutputStreams {
  out: NodeJS.WriteStream;
  err: NodeJS.WriteStream;
}

/** Streams whose closed-pipe handler is installed. */
const guarded = new WeakSet<NodeJS.WriteStream>();

/** A closed pipe (`npm run db:status | head`) ends the output, not with a stack trace. */
function endOnClosedPipe(stream: NodeJS.WriteStream): void {
  if (guarded.has(stream)) return;
  guarded.add(stream);
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(ExitCode.ok);
    throw error;
  });
}

/** The Output of this process: stdout and stderr, the mode from --json and the terminal. */
export function processOutput(options: { json?: boolean | undefined }, streams: OutputStreams = { out: process.stdout, err: process.stderr }, env = process.env): Output {
  const { out, err } = streams;
  endOnClosedPipe(out);
  const mode = outputMode(options, out, env);
  return {
    mode,
    colour: { out: useColour(out, env), err: useColour(err, env) },
    say: (text) => {
      if (mode !== 'json') out.write(`${text}\n`);
    },
    json: (value) => {
      out.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    error: (text) => {
      err.write(`${text}\n`);
    },
  };
}

/** An Output that keeps what is written (each call's text, without the added newline), for tests; no colour. */
export function memoryOutput(mode: OutputMode = 'plain'): Output & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    mode,
    colour: { out: false, err: false },
    out,
    err,
    say: (text) => {
      if (mode !== 'json') out.push(text);
    },
    json: (value) => {
      out.push(JSON.stringify(value, null, 2));
    },
    error: (text) => {
      err.push(text);
    },
  };
}

const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/** Wraps text in an ANSI colour when `enabled`. */
export function paint(enabled: boolean, colour: keyof typeof codes, text: string): string {
  return enabled ? `\u001b[${codes[colour]}m${text}\u001b[0m` : text;
}
