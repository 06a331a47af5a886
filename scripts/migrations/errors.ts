/** The errors the migration runner raises, each with what to do about it. */
import { quoteIdent } from '../shared/identifiers.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { describeMigrationDrift, type Drift } from './plan.ts';
import { characterIndex, lineColumn, statementExcerpt } from './position.ts';
import type { MigrationSource } from './source.ts';
import type { SqlStatement } from '../shared/sql-statements.ts';

/** What the server said about a failed statement (the fields of a pg DatabaseError we use). */
export interface ServerError {
  message: string;
  code?: string | undefined;
  position?: string | undefined;
  detail?: string | undefined;
  hint?: string | undefined;
  where?: string | undefined;
}

/** The fields of a pg error, or a lost connection described as such. */
export function serverError(error: unknown): ServerError {
  const e = error as Partial<ServerError> & { message: string };
  if (e.code === undefined || !/^[0-9A-Z]{5}$/.test(e.code)) {
    return { message: `the connection to the server was lost or refused: ${e.message}` };
  }
  return { message: e.message, code: e.code, position: e.position, detail: e.detail, hint: e.hint, where: e.where };
}

/**
 * What ran short when a statement failed for want of a server resource (SQLSTATE class 53: a full disk, no
 * memory, no connection slot), not for anything it says; undefined for every other error. The file is fine:
 * the remedy is on the server, then the same command again.
 */
export function resourceShortage(server: ServerError): string | undefined {
  switch (server.code) {
    case '53100':
      return "the server's disk is full: free space on the disk that holds its data directory (for the project's cluster, `df -h .pgstrap` shows it)";
    case '53200':
      return 'the server ran out of memory: try again when it has more free (or lower work_mem / maintenance_work_mem for this file)';
    case '53300':
      return 'the server has no connection slot left: close other clients (or raise max_connections)';
    default:
      return server.code?.startsWith('53') ? `the server ran short of a resource (${server.code}): see its log` : undefined;
  }
}

/** Where a failed statement sits in its file and what ran before it. */
export interface FailedStatement {
  source: MigrationSource;
  statement: SqlStatement;
  /** 0-based index in its section. */
  index: number;
  total: number;
  direction: 'up' | 'down';
  database: string;
}

/**
 * Where a failed statement of a SQL file went wrong: `message` is `path:line:col: server message (code)`,
 * `details` the statement with a caret and the server's detail, hint and context. Migrations and seeds share it.
 */
export function describeStatementFailure(path: string, text: string, statement: SqlStatement, server: ServerError): { message: string; details: string[] } {
  const position = Number(server.position);
  const caret = Number.isInteger(position) && position > 0 ? statement.offset + characterIndex(statement.text, position) : undefined;
  const at = lineColumn(text, caret ?? statement.offset);
  const code = server.code ? ` (${server.code})` : '';
  const details = statementExcerpt(text, statement.offset, statement.offset + statement.text.length, caret);
  for (const [label, value] of [['detail', server.detail], ['hint', server.hint], ['context', server.where]] as const) {
    if (value) details.push(`${label}: ${value}`);
  }
  return { message: `${path}:${at.line}:${at.column}: ${server.message}${code}`, details };
}

/** A statement failed: `file:line:col`, the server's message, and the statement with a caret. */
export function statementFailed(failed: FailedStatement, server: ServerError): PgstrapError {
  const { source, statement, index, total, direction, database } = failed;
  const { message, details } = describeStatementFailure(source.path, source.text, statement, server);
  const section = direction === 'up' ? '' : ' (down section)';
  details.push(`statement ${index + 1} of ${total}${section} in database ${database}`);
  const shortage = resourceShortage(server);
  let remedy: string;
  // No SQLSTATE: the connection was lost (serverError), so the server said nothing of the statement itself.
  const lost = server.code === undefined;
  if (source.transactional) {
    const again = `run \`npm run ${direction === 'up' ? 'migrate' : 'migrate:down'}\` again`;
    if (lost) {
      // The answers flushed say which statement ran (apply.ts); the last one's and the COMMIT's come together.
      details.push(
        index === total - 1
          ? 'the server rolls its transaction back, unless the connection was lost as the file committed: `npm run migrate:status` shows whether it is applied'
          : 'nothing of this file was applied: the server rolls its transaction back',
      );
      remedy = `Once the server answers again, ${again}; fix ${source.path} first only if the server's log shows this statement brought it down.`;
    } else {
      details.push(`nothing of this file was applied: its transaction rolled back${direction === 'up' ? '; earlier files stay applied' : ''}`);
      remedy = shortage ? `Nothing is wrong with ${source.path}: ${shortage}; then ${again}.` : `Fix ${source.path} and ${again}.`;
    }
  } else if (direction === 'up') {
    details.push(`it runs outside a transaction: ${index} statement${index === 1 ? '' : 's'} before this one stay applied`);
    const retry = `\`npm run migrate -- --retry ${source.version}\` runs it again from statement ${index + 1}`;
    remedy = shortage
      ? `Nothing is wrong with ${source.path}: ${shortage}; then ${retry}.`
      : `Undo or finish it by hand, then ${retry} (or \`--accept ${source.version}\` records it as applied).`;
  } else {
    details.push(`it runs outside a transaction: ${index} statement${index === 1 ? '' : 's'} of the down section before this one stay applied`);
    remedy = `Finish the revert by hand; the tracking row still says ${source.version} is applied.`;
  }
  return new PgstrapError({
    code: 'migrate.failed',
    message,
    details,
    remedy,
    exit: ExitCode.database,
  });
}

/** Drifted files stop a run before anything is applied. */
export function driftDetected(database: string, drifts: readonly Drift[]): PgstrapError {
  const versions = drifts.map((d) => d.version);
  const retry = drifts.filter((d) => d.kind === 'half-applied').map((d) => d.version);
  return new PgstrapError({
    code: 'migrate.drift',
    message: `database ${database}: ${drifts.length === 1 ? 'a migration no longer matches' : `${drifts.length} migrations no longer match`} what was applied; nothing was applied`,
    details: drifts.map(describeMigrationDrift),
    remedy:
      'Restore the file (git checkout) if the change was a mistake. If it was intended, accept it: ' +
      `\`npm run migrate -- ${versions.map((v) => `--accept ${v}`).join(' ')}\` records the file as it is now (a missing one is forgotten)` +
      (retry.length > 0 ? `; for a file that stopped half way, \`--retry ${retry[0]}\` runs it again from the statement that failed.` : '.'),
    exit: ExitCode.database,
  });
}

/** `--accept` or `--retry` named a version that needs no such thing. */
export function nothingToResolve(flag: 'accept' | 'retry', versions: readonly string[], candidates: readonly string[]): PgstrapError {
  const what = flag === 'accept' ? 'drifted' : 'stopped half way';
  return new PgstrapError({
    code: 'migrate.nothing-to-' + flag,
    message: `--${flag} ${versions.join(', ')}: no such migration ${what} in any database`,
    details: candidates.length > 0 ? [`${what}: ${candidates.join(', ')}`] : [],
    remedy: 'Run `npm run migrate:status` to see which versions drifted.',
    exit: ExitCode.usage,
  });
}

/** Another runner held the lock past the timeout. */
export function lockTimeout(database: string, seconds: number, holder: string | undefined): PgstrapError {
  return new PgstrapError({
    code: 'migrate.lock-timeout',
    message: `database ${database}: another migration runner${holder ? ` (${holder})` : ''} held the migration lock for more than ${seconds} s`,
    remedy: 'Wait for it to finish, or raise the wait with `--lock-timeout <seconds>`; `npm run migrate:status` shows what it is running.',
    exit: ExitCode.database,
  });
}

/** `migrate:down` has nothing it may revert. */
export function cannotRevert(database: string, reason: string, remedy: string): PgstrapError {
  return new PgstrapError({ code: 'migrate.no-down', message: `database ${database}: ${reason}`, remedy, exit: ExitCode.database });
}

/** Two files share a version, so their order is undefined. */
export function duplicateVersion(directory: string, a: string, b: string): PgstrapError {
  return new PgstrapError({
    code: 'migrate.duplicate-version',
    message: `${directory}: ${a} and ${b} have the same version`,
    remedy: 'Rename one: `npm run migrate:new <name>` picks a fresh timestamp.',
    exit: ExitCode.usage,
  });
}

/** The tracking table cannot be created or read, usually for want of privileges. */
export function trackingTableFailed(database: string, table: string, reason: string, cause: unknown): PgstrapError {
  return new PgstrapError({
    code: 'migrate.tracking-table',
    message: `database ${database}: cannot create or read the tracking table ${table}: ${reason}`,
    remedy: `Run as a role that may create a schema in ${database} (its owner, or one granted CREATE privilege on database ${database}: GRANT CREATE ON DATABASE ${quoteIdent(database)} TO <role>), or have one create it for this role: CREATE SCHEMA ${table.split('.')[0]} AUTHORIZATION <role>.`,
    exit: ExitCode.database,
    cause,
  });
}

/** A `.sql` file whose name has no version, which a runner would otherwise skip in silence. */
export function unversionedFile(directory: string, fileName: string): PgstrapError {
  return new PgstrapError({
    code: 'migrate.bad-file-name',
    message: `${directory}/${fileName} has no version: migration files are named <version>_<name>.sql`,
    remedy: 'Rename it (e.g. 20250101120000_name.sql; `npm run migrate:new <name>` makes one), or move it out of the folder.',
    exit: ExitCode.usage,
  });
}

/** The app's own migrator exited non-zero. */
export function commandFailed(command: readonly string[], database: string, exit: string, output: readonly string[]): PgstrapError {
  const errors = errorLines(output);
  const last = output.slice(-TAIL_LINES).filter((l) => !errors.includes(l));
  const details =
    output.length === 0
      ? ['it printed nothing']
      : [
          ...(errors.length > 0 ? ['the lines that name the error:', ...errors.map((l) => `  ${l}`)] : []),
          ...(last.length > 0 ? [`${errors.length > 0 ? 'then its last lines' : 'its last lines'}:`, ...last.map((l) => `  ${l}`)] : []),
        ];
  return new PgstrapError({
    code: 'migrate.command-failed',
    message: `\`${displayCommand(command)}\` failed on database ${database}: ${exit}`,
    details,
    remedy: 'Fix what it reports and run `npm run migrate` again; migrations.command in the config names it.',
    exit: ExitCode.database,
  });
}

/** How many of a failed command's last lines follow the error lines. */
const TAIL_LINES = 5;
/** At most this many error lines: the first ones, where a migrator names the cause before its stack dump. */
const MAX_ERROR_LINES = 12;
/** A line that names an error: `error: ...`, `ERROR:`, `Error executing`, `FATAL`, an exception, `failed`. */
const ERROR_LINE = /\b(error|fatal|exception|failed|failure|panic)\b|^\s*(caused by|detail|hint):/i;
/** A stack frame (`    at fn (file:1:2)`), which repeats the place, not the cause. */
const STACK_FRAME = /^\s+at\s|^\s*at\s+\S+\s+\(|^\s*at\s+(file|node):/;

/** A field of a dumped error object that says nothing (`detail: undefined,`, `severity: 'ERROR',`). */
const EMPTY_FIELD = /^\s*\w+:\s*(undefined|null|'(ERROR|FATAL)'),?$/;

/** The lines of a migrator's output that carry its error, without stack frames and repeats, in order. */
export function errorLines(output: readonly string[]): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const line of output) {
    if (!ERROR_LINE.test(line) || STACK_FRAME.test(line) || EMPTY_FIELD.test(line) || seen.has(line.trim())) continue;
    seen.add(line.trim());
    found.push(line);
    if (found.length === MAX_ERROR_LINES) break;
  }
  return found;
}

/** A command as the user wrote it: the shell string for `sh -c`, else the words. */
export function displayCommand(command: readonly string[]): string {
  return command[0] === 'sh' && command[1] === '-c' && command.length === 3 ? command[2]! : command.join(' ');
}
