/**
 * A migration file's content: its directives (`-- pgstrap:no-transaction` in the header), its up
 * statements, and the optional down section after a `-- pgstrap:down` line.
 */
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { normaliseSql, sqlChecksum } from './checksum.ts';
import type { MigrationName } from './naming.ts';
import { lineColumn } from './position.ts';
import { scanSql, type SqlStatement } from '../shared/sql-statements.ts';

/** The header comment that makes a file run outside a transaction, one statement per query. */
export const NO_TRANSACTION_DIRECTIVE = '-- pgstrap:no-transaction';
/** The line that starts a file's down section. */
export const DOWN_MARKER = '-- pgstrap:down';

const DIRECTIVE = /^--\s*pgstrap:\s*(\S*)\s*$/i;
/** A statement psql would feed the following lines to; a runner cannot. Seeds refuse it too. */
export const COPY_FROM_STDIN = /^copy\b[^;]*\bfrom\s+stdin\b/i;
/** A statement that ends or opens the transaction a file runs in (BEGIN ATOMIC aside). Seeds refuse it too. */
export const TRANSACTION_CONTROL = /^(begin|commit|rollback|abort|end|start\s+transaction)\b/i;

/** A parsed migration file. Statement offsets index `text`. */
export interface MigrationSource extends MigrationName {
  /** Path shown in messages, e.g. `migrations/20251025000040_create_llm_requests.sql`. */
  path: string;
  /** The normalised text. */
  text: string;
  /** Checksum of the up section: editing the down section is not drift, since it changes nothing applied. */
  checksum: string;
  /** False when the header says `-- pgstrap:no-transaction`. */
  transactional: boolean;
  up: SqlStatement[];
  /** Undefined when the file has no down marker; empty when the section holds no statement. */
  down: SqlStatement[] | undefined;
}

function invalid(path: string, text: string, offset: number, message: string, remedy: string): PgstrapError {
  const { line, column } = lineColumn(text, offset);
  return new PgstrapError({ code: 'migrate.invalid-file', message: `${path}:${line}:${column}: ${message}`, remedy, exit: ExitCode.usage });
}

/** Parses a migration's text; throws `migrate.invalid-file` naming the line of a bad directive. */
export function parseMigrationSource(name: MigrationName, path: string, rawText: string): MigrationSource {
  const text = normaliseSql(rawText);
  const { statements, comments } = scanSql(text);
  let downAt: number | undefined;
  let transactional = true;
  for (const comment of comments) {
    const match = DIRECTIVE.exec(comment.text.trim());
    if (!match) continue;
    const directive = match[1]!.toLowerCase();
    if (directive === 'down') {
      if (downAt !== undefined) throw invalid(path, text, comment.offset, 'a second `-- pgstrap:down` line', 'Keep one down marker: everything after it is the down section.');
      downAt = comment.offset;
    } else if (directive === 'no-transaction') {
      const first = statements[0];
      if (first !== undefined && first.offset < comment.offset) {
        throw invalid(path, text, comment.offset, '`-- pgstrap:no-transaction` must come before the first statement', 'Move it to the top of the file.');
      }
      transactional = false;
    } else {
      throw invalid(path, text, comment.offset, `unknown directive "pgstrap:${match[1]}"`, `Use \`${NO_TRANSACTION_DIRECTIVE}\` (header) or \`${DOWN_MARKER}\`.`);
    }
  }
  // psql feeds the lines after COPY ... FROM stdin to the server; here they would be parsed as SQL.
  const copy = statements.find((s) => COPY_FROM_STDIN.test(s.text));
  if (copy) {
    throw invalid(path, text, copy.offset, 'COPY ... FROM stdin needs psql to send the data that follows it', 'Load the rows with INSERT ... VALUES, or COPY from a file the server can read.');
  }
  const up = statements.filter((s) => downAt === undefined || s.offset < downAt);
  const down = downAt === undefined ? undefined : statements.filter((s) => s.offset > downAt!);
  if (transactional) {
    // pgstrap wraps each file in a transaction; a COMMIT inside would end it early and break atomicity.
    const control = [...up, ...(down ?? [])].find((s) => TRANSACTION_CONTROL.test(s.text) && !/^begin\s+atomic\b/i.test(s.text));
    if (control) {
      throw invalid(
        path, text, control.offset,
        `"${control.text.split('\n')[0]}" controls the transaction pgstrap runs the file in`,
        `Remove it (each file already runs in its own transaction), or put \`${NO_TRANSACTION_DIRECTIVE}\` at the top.`,
      );
    }
  }
  return {
    ...name,
    path,
    text,
    checksum: sqlChecksum(downAt === undefined ? text : text.slice(0, downAt)),
    transactional,
    up,
    down,
  };
}
