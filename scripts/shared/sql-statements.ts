/**
 * Splits SQL text into statements the way psql does: a semicolon ends a statement only outside quotes,
 * dollar quotes, comments, parentheses and the BEGIN ... END body of a SQL-standard function.
 */

/** One statement of a file: its text (up to and including its semicolon) and where it starts. */
export interface SqlStatement {
  text: string;
  /** Index of its first character in the text that was split. */
  offset: number;
}

/** A `--` comment outside any statement, e.g. a `-- pgstrap:down` marker. */
export interface TopLevelComment {
  text: string;
  offset: number;
}

/** What a scan finds: the statements and the comments between them. */
export interface SqlScan {
  statements: SqlStatement[];
  comments: TopLevelComment[];
}

const IDENT_START = /[A-Za-z_\u0080-\uffff]/;
const IDENT_PART = /[A-Za-z0-9_$\u0080-\uffff]/;
const DOLLAR_TAG = /\$(?:[A-Za-z_\u0080-\uffff][A-Za-z0-9_\u0080-\uffff]*)?\$/y;

/** Index just past the end of the line that contains `from`. */
function endOfLine(sql: string, from: number): number {
  const nl = sql.indexOf('\n', from);
  return nl === -1 ? sql.length : nl;
}

/** Index just past a block comment starting at `from` (they nest in PostgreSQL). */
function endOfBlockComment(sql: string, from: number): number {
  let depth = 0;
  let i = from;
  while (i < sql.length) {
    if (sql.startsWith('/*', i)) {
      depth++;
      i += 2;
    } else if (sql.startsWith('*/', i)) {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else i++;
  }
  return sql.length;
}

/** Index just past a quoted run opened at `from` by `quote`; `backslash` for E'' strings. */
function endOfQuoted(sql: string, from: number, quote: string, backslash: boolean): number {
  let i = from + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslash && c === '\\') i += 2;
    else if (c === quote) {
      if (sql[i + 1] === quote) i += 2; // a doubled quote is a quote character
      else return i + 1;
    } else i++;
  }
  return sql.length;
}

/**
 * Tracks psql's heuristic for `CREATE [OR REPLACE] FUNCTION|PROCEDURE ... BEGIN ATOMIC ... END`:
 * inside such a statement BEGIN and CASE open a block that END closes, and semicolons inside do not split.
 */
class BlockDepth {
  private words: string[] = [];
  depth = 0;

  reset(): void {
    this.words = [];
    this.depth = 0;
  }

  word(word: string, parenDepth: number): void {
    const lower = word.toLowerCase();
    if (this.words.length < 4) this.words.push(lower);
    const [a, b, c, d] = this.words;
    const routine = a === 'create' && (b === 'function' || b === 'procedure' || (b === 'or' && c === 'replace' && (d === 'function' || d === 'procedure')));
    if (!routine || parenDepth !== 0) return;
    if (lower === 'begin') this.depth++;
    else if (lower === 'case' && this.depth > 0) this.depth++;
    else if (lower === 'end' && this.depth > 0) this.depth--;
  }
}

/** Scans `sql` into statements and top-level comments. */
export function scanSql(sql: string): SqlScan {
  const statements: SqlStatement[] = [];
  const comments: TopLevelComment[] = [];
  const block = new BlockDepth();
  let start = -1; // first significant character of the current statement
  let parenDepth = 0;
  let i = 0;
  const finish = (end: number): void => {
    if (start !== -1) statements.push({ text: sql.slice(start, end), offset: start });
    start = -1;
    parenDepth = 0;
    block.reset();
  };
  while (i < sql.length) {
    const c = sql[i]!;
    if (c === '-' && sql[i + 1] === '-') {
      const end = endOfLine(sql, i);
      if (start === -1) comments.push({ text: sql.slice(i, end), offset: i });
      i = end;
      continue;
    }
    if (c === '/' && sql[i + 1] === '*') {
      i = endOfBlockComment(sql, i);
      continue;
    }
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === ';' && start === -1) {
      i++; // an empty statement
      continue;
    }
    if (start === -1) start = i;
    if (c === ';') {
      if (parenDepth === 0 && block.depth === 0) finish(i + 1);
      i++;
    } else if (c === "'") {
      const prev = sql[i - 1];
      const escaped = (prev === 'E' || prev === 'e') && !IDENT_PART.test(sql[i - 2] ?? ' ');
      i = endOfQuoted(sql, i, "'", escaped);
    } else if (c === '"') {
      i = endOfQuoted(sql, i, '"', false);
    } else if (c === '$') {
      DOLLAR_TAG.lastIndex = i;
      const tag = DOLLAR_TAG.exec(sql);
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? sql.length : close + tag[0].length;
      } else i++; // $1, a parameter
    } else if (c === '(') {
      parenDepth++;
      i++;
    } else if (c === ')') {
      parenDepth = Math.max(0, parenDepth - 1);
      i++;
    } else if (IDENT_START.test(c)) {
      let j = i + 1;
      while (j < sql.length && IDENT_PART.test(sql[j]!)) j++;
      block.word(sql.slice(i, j), parenDepth);
      i = j;
    } else i++;
  }
  finish(sql.length);
  return { statements, comments };
}

/** The statements of `sql`, each with its offset; empty statements (only comments) are dropped. */
export function splitStatements(sql: string): SqlStatement[] {
  return scanSql(sql).statements;
}
