/** How a command talks to the person or program that ran it. */

/** `tasks`: live task list (a terminal); `plain`: a line per step (CI, pipes); `json`: one document on stdout. */
export type OutputMode = 'tasks' | 'plain' | 'json';

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

const codes = { red: 31, green: 32, yellow: 33, dim: 2, bold: 1 } as const;

/** Wraps text in an ANSI colour when `enabled`. */
export function paint(enabled: boolean, colour: keyof typeof codes, text: string): string {
  return enabled ? `\u001b[${codes[colour]}m${text}\u001b[0m` : text;
}
