/** Seed files: which folder a database reads, and a file's statements (pure). */
import path from 'node:path';
import type { ResolvedConfig, ResolvedDatabase, ResolvedSeeds } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { scanSql, type SqlStatement } from '../shared/sql-statements.ts';
import { normaliseSql } from '../migrations/checksum.ts';
import { lineColumn } from '../migrations/position.ts';
import { COPY_FROM_STDIN, TRANSACTION_CONTROL } from '../migrations/source.ts';

/** A parsed seed file. Statement offsets index `text`. */
export interface SeedSource {
  /** Path shown in messages, relative to the project: `seeds/001_users.sql`. */
  path: string;
  fileName: string;
  text: string;
  statements: SqlStatement[];
}


/** The seeds folder of `db`: its own, else the top-level one, else `<project>/seeds`. */
export function seedsOf(db: ResolvedDatabase, config: Pick<ResolvedConfig, 'seeds' | 'projectDir'>): ResolvedSeeds {
  return db.seeds ?? config.seeds ?? { directory: path.join(config.projectDir, 'seeds') };
}

/** Seed file names in the order they run: by name, as `ls` sorts them in the C locale. */
export function orderSeedFiles(entries: readonly string[]): string[] {
  return entries.filter((e) => e.endsWith('.sql')).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

function invalid(shown: string, text: string, offset: number, message: string, remedy: string): PgstrapError {
  const { line, column } = lineColumn(text, offset);
  return new PgstrapError({ code: 'seed.invalid-file', message: `${shown}:${line}:${column}: ${message}`, remedy, exit: ExitCode.usage });
}

/** Parses a seed file; it runs in one transaction, so it may not hold its own BEGIN/COMMIT or a COPY from stdin. */
export function parseSeed(shown: string, fileName: string, rawText: string): SeedSource {
  const text = normaliseSql(rawText);
  const { statements } = scanSql(text);
  const control = statements.find((s) => TRANSACTION_CONTROL.test(s.text) && !/^begin\s+atomic\b/i.test(s.text));
  if (control) {
    throw invalid(shown, text, control.offset, `"${control.text.split('\n')[0]}" controls the transaction pgstrap runs the seed file in`, 'Remove it: each seed file already runs in its own transaction.');
  }
  const copy = statements.find((s) => COPY_FROM_STDIN.test(s.text));
  if (copy) {
    throw invalid(shown, text, copy.offset, 'COPY ... FROM stdin needs psql to send the data that follows it', 'Load the rows with INSERT ... VALUES, or COPY from a file the server can read.');
  }
  return { path: shown, fileName, text, statements };
}
