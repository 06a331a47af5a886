/**
 * Runs the app's own migrator (`migrations.command`: Ecto, Prisma, Alembic, node-pg-migrate...) for one
 * database, with DATABASE_URL and PG* set to it, its output streamed line by line.
 */
import { execa } from 'execa';
import { environmentForUrl, withDatabase } from '../core/migrations/command-env.ts';
import { commandFailed, displayCommand } from '../core/migrations/errors.ts';
import { redactSecrets, rememberSecret, rememberUrlSecrets } from '../core/secrets.ts';
import { clientEnvironment } from '../engines/client-env.ts';
import type { Target } from '../engines/target.ts';

/** How many lines of output a failure shows. */
const TAIL_LINES = 20;

/**
 * The variables for `database`. A managed cluster is reached over TCP on 127.0.0.1 with the superuser's
 * password: every client library speaks TCP, not all of them a Unix socket folder.
 */
export function commandEnvironment(target: Target, database: string): Record<string, string> {
  if (target.kind === 'external') return environmentForUrl(withDatabase(target.url, database));
  const { DATABASE_URL } = clientEnvironment(target.layout, target.config);
  return environmentForUrl(withDatabase(new URL(DATABASE_URL!), database));
}

/** Runs `command` for `database`, sending each output line to `log`; throws `migrate.command-failed` on a non-zero exit. */
export async function runMigrationCommand(target: Target, database: string, command: readonly string[], log: (line: string) => void): Promise<void> {
  const [program, ...args] = command;
  const tail: string[] = [];
  const env = commandEnvironment(target, database);
  // The migrator may echo DATABASE_URL or PGPASSWORD: what pgstrap shows of its output never holds them.
  rememberUrlSecrets(env.DATABASE_URL);
  rememberSecret(env.PGPASSWORD);
  // execa rather than engines/process.ts's run(): the output must stream into the task list as it comes.
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
    log(`${database}: ${line}`);
    tail.push(line);
    if (tail.length > TAIL_LINES) tail.shift();
  }
  const result = await child;
  if (!result.failed) return;
  const exit =
    result.exitCode !== undefined ? `exit code ${result.exitCode}`
    : result.signal ? `killed by ${result.signal}`
    : result.shortMessage || `it could not start (${displayCommand(command)})`;
  throw commandFailed(command, database, exit, tail);
}
