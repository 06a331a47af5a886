/**
 * The uuidv7 generation benchmark's SQL and report: the SQL fallback against gen_random_uuid() (and
 * pg_uuidv7 or native uuidv7() where present), bulk generation and bulk primary-key inserts. Pure.
 */
import { quoteIdent } from '../identifiers.ts';

/** One generator measured. */
export interface GenerationCandidate {
  id: string;
  label: string;
  /** SQL expression that yields one uuid. */
  expression: string;
}

/** Figures for one candidate. */
export interface GenerationFigures {
  id: string;
  label: string;
  /** Median seconds to generate `rows` ids in one statement. */
  generateSeconds: number;
  /** Seconds to insert `rows` rows with it as the primary-key default. */
  insertSeconds: number;
  /** Size of that primary-key index, in bytes. */
  indexBytes: number;
}

/** A whole run on one server. */
export interface GenerationReport {
  server: string;
  rows: number;
  repeats: number;
  /** The first is the baseline (gen_random_uuid()). */
  figures: GenerationFigures[];
}

/** The statement that times generation: count() evaluates the expression for every row. */
export function generateSql(expression: string): string {
  return `SELECT count(${expression}) FROM generate_series(1, $1::int)`;
}

/** Table name for a candidate in the bench schema. */
export function benchTable(schema: string, id: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(`keys_${id}`)}`;
}

/** Creates the candidate's table with its expression as the primary-key default. */
export function createKeyTableSql(schema: string, candidate: GenerationCandidate): string {
  return `CREATE TABLE ${benchTable(schema, candidate.id)} (id uuid PRIMARY KEY DEFAULT ${candidate.expression}, n int NOT NULL)`;
}

/** Inserts $1 rows, each taking its key from the default. */
export function insertKeysSql(schema: string, candidate: GenerationCandidate): string {
  return `INSERT INTO ${benchTable(schema, candidate.id)} (n) SELECT generate_series(1, $1::int)`;
}

/** The primary-key index's size; $1 is the table's qualified name (benchTable). */
export const PRIMARY_KEY_SIZE_SQL =
  'SELECT pg_relation_size(indexrelid)::bigint AS bytes FROM pg_index WHERE indrelid = $1::regclass AND indisprimary';

/** The report as a table with ratios to the baseline, and the 1.5x goal's verdict for the fallback. */
export function formatGenerationReport(report: GenerationReport): string {
  const [base] = report.figures;
  if (!base) return 'no figures';
  const n = report.rows.toLocaleString('en-US');
  const lines = [
    `uuidv7 generation on ${report.server}: ${n} ids per run, median of ${report.repeats}; ${n} rows per insert`,
    '',
    `${'generator'.padEnd(34)} ${'generate'.padStart(9)} ${'ratio'.padStart(6)} ${'insert'.padStart(9)} ${'ratio'.padStart(6)} ${'pk index'.padStart(10)} ${'ratio'.padStart(6)}`,
  ];
  for (const f of report.figures) {
    lines.push(
      [
        f.label.padEnd(34),
        `${f.generateSeconds.toFixed(2)} s`.padStart(9),
        `${(f.generateSeconds / base.generateSeconds).toFixed(2)}x`.padStart(6),
        `${f.insertSeconds.toFixed(2)} s`.padStart(9),
        `${(f.insertSeconds / base.insertSeconds).toFixed(2)}x`.padStart(6),
        `${(f.indexBytes / 1024 / 1024).toFixed(1)} MB`.padStart(10),
        `${(f.indexBytes / base.indexBytes).toFixed(2)}x`.padStart(6),
      ].join(' '),
    );
  }
  const fallback = report.figures.find((f) => f.id === 'fallback');
  if (fallback) {
    const ratio = fallback.generateSeconds / base.generateSeconds;
    lines.push('', `goal: ${fallback.label} generation within 1.5x of gen_random_uuid(): ${ratio.toFixed(2)}x, ${ratio <= 1.5 ? 'met' : 'NOT met'}`);
  }
  return lines.join('\n');
}
