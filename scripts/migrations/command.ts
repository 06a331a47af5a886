/**
 * Runs the app's own migrator (`migrations.command`: Ecto, Prisma, Alembic, node-pg-migrate...) for one
 * database, with DATABASE_URL and PG* set to it, its output streamed line by line.
 */
import { environmentForUrl, withDatabase } from '../server/database-url.ts';
import { commandFailed, displayCommand } from './errors.ts';
import { redactSecrets, rememberSecret, rememberUrlSecrets } from '../shared/secrets.ts';
import { clientEnvironment } from '../server/client-env.ts';
import { migrationTarget, type Target } from '../server/target.ts';
import type { ResolvedDatabase } from '../config/types.ts';
import type { AppMigratorStatus } from './render.ts';

/** How much output is kept for a failure's message: the error lines may come long before the end. */
const KEPT_LINES = 5000;

/** How a command ended: its exit code and how long it took. */
export interface CommandOutcome {
  exitCode: number;
  durationMs: number;
}

/**
 * The variables for `database`. A managed cluster is reached over TCP on 127.0.0.1 with the superuser's
 * password: every client library speaks TCP, not all of them a Unix socket folder.
 */
export function commandEnvironment(target: Target, database: string): Record<string, string> {
  // The app's migrator takes its own locks: it gets the direct URL too, when there is one.
  const on = migrationTarget(target);
  if (on.kind === 'external') return environmentForUrl(withDatabase(on.url, database));
  const { DATABASE_URL } = clientEnvironment(on.layout, on.config);
  return environmentForUrl(withDatabase(new URL(DATABASE_URL!), database));
}

/** What a finished command left: exit code (or why it did not run), output and time. */
interface Finished {
  failed: boolean;
  exitCode: number | undefined;
  /** `exit code 3`, `killed by SIGTERM`, or why it could not start. */
  exit: string;
  output: string[];
  durationMs: number;
}

async function runFor(target: Target, database: string, command: readonly string[], log: (line: string) => void): Promise<Finished> {
  const [program, ...args] = command;
  const output: string[] = [];
  const started = performance.now();
  const env = commandEnvironment(target, database);
  // The migrator may echo DATABASE_URL or PGPASSWORD: what pgstrap shows of its output never holds them.
  rememberUrlSecrets(env.DATABASE_URL);
  rememberSecret(env.PGPASSWORD);
  // execa rather than server/process.ts's run(): the output must stream into the task list as it comes.
  // Loaded here, by the runs that hand off, so that no other command pays for its ~140 modules.
  const { execa } = await import('execa');
  const child = execa(program!, args, {
    cwd: target.config.projectDir,
    env: { ...env, PGSTRAP_DATABASE: database },
    stdin: 'ignore',
    all: true,
    reject: false,
    buffer: false,
  });
  for await (const raw of child.iterable({ from: 'all' })) {
    const line = redactSecrets(raw);
    log(line);
    output.push(line);
    if (output.length > KEPT_LINES) output.shift();
  }
  const result = await child;
  const exit =
    result.exitCode !== undefined ? `exit code ${result.exitCode}`
    : result.signal ? `killed by ${result.signal}`
    : result.shortMessage || `it could not start (${displayCommand(command)})`;
  return { failed: result.failed, exitCode: result.exitCode, exit, output, durationMs: performance.now() - started };
}

/**
 * Runs `command` for `database`, sending each output line to `log`; returns its exit code and time, or throws
 * `migrate.command-failed` on a non-zero exit, with the lines that carry the error.
 */
export async function runMigrationCommand(target: Target, database: string, command: readonly string[], log: (line: string) => void): Promise<CommandOutcome> {
  const finished = await runFor(target, database, command, (line) => log(`${database}: ${line}`));
  if (finished.failed) throw commandFailed(command, database, finished.exit, finished.output);
  return { exitCode: 0, durationMs: finished.durationMs };
}

/** The app's status command for `database`: its exit (0: up to date) and output, never thrown. */
export async function runStatusCommand(target: Target, database: string, command: readonly string[]): Promise<{ exitCode: number | undefined; exit: string; output: string[] }> {
  const { exitCode, exit, output } = await runFor(target, database, command, () => {});
  return { exitCode, exit, output };
}

/** What the app's own migrator says about `db`: its status command's verdict, or undefined when the config names no command. */
export async function readAppMigratorStatus(target: Target, db: ResolvedDatabase): Promise<AppMigratorStatus | undefined> {
  const { command, statusCommand } = db.migrations;
  if (command === undefined) return undefined;
  if (statusCommand === undefined) return { command: displayCommand(command), statusCommand: null, exitCode: null, upToDate: null, output: [] };
  const result = await runStatusCommand(target, db.name, statusCommand);
  return { command: displayCommand(command), statusCommand: displayCommand(statusCommand), exitCode: result.exitCode ?? null, upToDate: result.exitCode === 0, output: result.exitCode === undefined ? [result.exit] : result.output };
}
