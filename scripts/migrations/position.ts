/** Where in a file something happened, and the excerpt with a caret that shows it (graphile-migrate style). */

/** A 1-based line and column. */
export interface LineColumn {
  line: number;
  column: number;
}

/** The line and column of `offset` in `text`. */
export function lineColumn(text: string, offset: number): LineColumn {
  const before = text.slice(0, offset);
  const line = before.split('\n').length;
  const lineStart = before.lastIndexOf('\n') + 1;
  return { line, column: Array.from(text.slice(lineStart, offset)).length + 1 };
}

/**
 * Converts PostgreSQL's error `position` (1-based, in characters of the statement) to an index in the
 * JavaScript string, which counts astral characters twice.
 */
export function characterIndex(statement: string, position: number): number {
  const chars = Array.from(statement).slice(0, Math.max(0, position - 1));
  return chars.join('').length;
}

/**
 * Lines `from`..`to` of `text` with their numbers, and a caret under `caret` when given:
 *
 *     12 | CREATE TABLE t (
 *     13 |   id uuid DEFAULT uuidv8()
 *        |                   ^
 */
export function excerpt(text: string, from: number, to: number, caret?: LineColumn): string[] {
  const lines = text.split('\n');
  const last = Math.min(to, lines.length);
  const width = String(last).length;
  const out: string[] = [];
  for (let n = Math.max(1, from); n <= last; n++) {
    out.push(`${String(n).padStart(width)} | ${lines[n - 1]}`);
    if (caret && caret.line === n) out.push(`${' '.repeat(width)} | ${' '.repeat(caret.column - 1)}^`);
  }
  return out;
}

/** The excerpt for a statement spanning `start`..`end` in `text`, at most `max` lines around the caret. */
export function statementExcerpt(text: string, start: number, end: number, caretOffset: number | undefined, max = 8): string[] {
  const first = lineColumn(text, start).line;
  const last = lineColumn(text, Math.max(start, end - 1)).line;
  const caret = caretOffset === undefined ? undefined : lineColumn(text, caretOffset);
  if (last - first + 1 <= max) return excerpt(text, first, last, caret);
  const centre = caret?.line ?? first;
  const from = Math.max(first, centre - Math.floor(max / 2));
  return excerpt(text, from, Math.min(last, from + max - 1), caret);
}
