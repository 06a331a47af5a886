/**
 * The uuidv7 generation benchmark's SQL, goals and report: the SQL fallbacks against gen_random_uuid(), the
 * widely copied peer SQL function (and pg_uuidv7 or native uuidv7() where present), bulk generation and bulk
 * primary-key inserts. Pure.
 */
import { quoteIdent } from '../shared/identifiers.ts';
import type { FallbackRandom } from '../config/types.ts';
import { pairedRatio } from './stats.ts';

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
  /** Median seconds to insert `rows` rows with it as the primary-key default. */
  insertSeconds: number;
  /** Each run's seconds, in round order (every generator takes its turn in each round): goals pair them. */
  generateRuns?: number[] | undefined;
  insertRuns?: number[] | undefined;
  /** Size of that primary-key index, in bytes. */
  indexBytes: number;
  /** Consecutive pairs of the inserted keys (in insert order) where the later is not greater. */
  outOfOrder: number;
  /** The SQL fallback's random bits, for the fallbacks. */
  random?: FallbackRandom | undefined;
}

/** A whole run on one server. */
export interface GenerationReport {
  server: string;
  rows: number;
  repeats: number;
  /** Keyed-insert runs per generator. */
  insertRepeats: number;
  /** The first is the baseline (gen_random_uuid()). */
  figures: GenerationFigures[];
}

/**
 * The server as the report names it: its version and, from `version()`, the compiler it was built with
 * (`PostgreSQL 17.10, compiled by gcc (Ubuntu 7.5.0-3ubuntu1~18.04) 7.5.0`). The ratios depend on the build:
 * the setting the strong fallback keeps is string work, which a build that inlines strlen as `repnz scas` makes slow (docs/extensions.md).
 */
export function serverLabel(version: string, versionText: string): string {
  const compiler = /, compiled by (.+?)(?:, \d+-bit)?$/.exec(versionText.trim())?.[1];
  return compiler ? `PostgreSQL ${version}, compiled by ${compiler}` : `PostgreSQL ${version}`;
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

/** Out-of-order consecutive keys of a candidate's table, in insert order (n). */
export function outOfOrderSql(schema: string, id: string): string {
  return `SELECT count(*) FILTER (WHERE id <= prev)::bigint AS n FROM (SELECT id, lag(id) OVER (ORDER BY n) AS prev FROM ${benchTable(schema, id)}) s`;
}

/**
 * The most widely copied SQL uuidv7 (a GitHub gist by kjmph, and the many copies of it): the millisecond
 * timestamp overlaid onto gen_random_uuid()'s bytes, the version bits flipped from 4 to 7. Random within a
 * millisecond, so not monotonic. `language` 'sql' is its inlinable form, 'plpgsql' the gist's original.
 */
export function peerFunctionSql(schema: string, language: 'sql' | 'plpgsql'): string {
  const expression = [
    'encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid())',
    '  placing substring(int8send(floor(extract(epoch from clock_timestamp()) * 1000)::bigint) from 3)',
    "  from 1 for 6), 52, 1), 53, 1), 'hex')::uuid",
  ].join('\n');
  const body = language === 'sql' ? `SELECT ${expression}` : `BEGIN RETURN ${expression}; END`;
  return `CREATE FUNCTION ${quoteIdent(schema)}.uuid_generate_v7() RETURNS uuid LANGUAGE ${language} VOLATILE AS $peer$\n${body}\n$peer$`;
}

/** One goal of the generation bench, with its ratio and whether this run met it. */
export interface GenerationGoal {
  /** The figure it is about (GenerationFigures.id). */
  id: string;
  /** What it asks, the same in every run: `keyed inserts at least 1.2x v4's throughput`. */
  about: string;
  /** What this run measured: `1.26x`, `0 keys out of order`. */
  measured: string;
  /** `about (is measured)` for a ratio, `about (measured)` otherwise. */
  text: string;
  met: boolean;
}

/**
 * The goals: the strong fallback at most 1.15x the peer's generation time, strictly monotonic (no key out
 * of order in the keyed insert), and at least 1.2x v4's throughput on the keyed insert; the fast one
 * within 1.5x of gen_random_uuid(). A goal whose figures are missing is left out.
 */
export function generationGoals(report: Pick<GenerationReport, 'figures'>): GenerationGoal[] {
  // Round by round where both sides have their runs (stats.ts pairedRatio), else the two medians.
  const over = (a: GenerationFigures, b: GenerationFigures, runs: 'generateRuns' | 'insertRuns', seconds: 'generateSeconds' | 'insertSeconds') => {
    const x = a[runs];
    const y = b[runs];
    return x !== undefined && y !== undefined && x.length === y.length && x.length > 0 ? pairedRatio(x, y) : a[seconds] / b[seconds];
  };
  const goal = (id: string, about: string, measured: string, met: boolean, ratio = true): GenerationGoal => ({
    id,
    about,
    measured,
    text: `${about} (${ratio ? 'is ' : ''}${measured})`,
    met,
  });
  const byId = new Map(report.figures.map((f) => [f.id, f]));
  const v4 = byId.get('v4');
  const peer = byId.get('peer');
  const strong = report.figures.find((f) => f.random === 'strong');
  const fast = report.figures.find((f) => f.random === 'fast');
  const goals: GenerationGoal[] = [];
  if (strong && peer) {
    const r = over(strong, peer, 'generateRuns', 'generateSeconds');
    goals.push(goal(strong.id, "generation at most 1.15x the peer SQL function's time", `${r.toFixed(2)}x`, r <= 1.15));
  }
  if (strong) {
    goals.push(goal(strong.id, 'strictly monotonic within a session', `${strong.outOfOrder} keys out of order`, strong.outOfOrder === 0, false));
  }
  if (strong && v4) {
    const r = over(v4, strong, 'insertRuns', 'insertSeconds');
    goals.push(goal(strong.id, "keyed inserts at least 1.2x v4's throughput", `${r.toFixed(2)}x`, r >= 1.2));
  }
  if (fast && v4) {
    const r = over(fast, v4, 'generateRuns', 'generateSeconds');
    goals.push(goal(fast.id, 'generation within 1.5x of gen_random_uuid()', `${r.toFixed(2)}x`, r <= 1.5));
  }
  return goals;
}

/** The primary-key index's size; $1 is the table's qualified name (benchTable). */
export const PRIMARY_KEY_SIZE_SQL =
  'SELECT pg_relation_size(indexrelid)::bigint AS bytes FROM pg_index WHERE indrelid = $1::regclass AND indisprimary';

/** The report as a table with ratios to the baseline and keys out of order, then each goal's verdict. */
export function formatGenerationReport(report: GenerationReport): string {
  const [base] = report.figures;
  if (!base) return 'no figures';
  const n = report.rows.toLocaleString('en-US');
  const lines = [
    `uuidv7 generation on ${report.server}: ${n} ids per run, median of ${report.repeats}; ${n} rows per insert, median of ${report.insertRepeats}; generators take turns`,
    '',
    `${'generator'.padEnd(48)} ${'generate'.padStart(9)} ${'ratio'.padStart(6)} ${'insert'.padStart(9)} ${'ratio'.padStart(6)} ${'pk index'.padStart(10)} ${'ratio'.padStart(6)} ${'out of order'.padStart(12)}`,
  ];
  for (const f of report.figures) {
    lines.push(
      [
        f.label.padEnd(48),
        `${f.generateSeconds.toFixed(2)} s`.padStart(9),
        `${(f.generateSeconds / base.generateSeconds).toFixed(2)}x`.padStart(6),
        `${f.insertSeconds.toFixed(2)} s`.padStart(9),
        `${(f.insertSeconds / base.insertSeconds).toFixed(2)}x`.padStart(6),
        `${(f.indexBytes / 1024 / 1024).toFixed(1)} MB`.padStart(10),
        `${(f.indexBytes / base.indexBytes).toFixed(2)}x`.padStart(6),
        String(f.outOfOrder).padStart(12),
      ].join(' '),
    );
  }
  const labels = new Map(report.figures.map((f) => [f.id, f.label]));
  const goals = generationGoals(report);
  if (goals.length > 0) lines.push('');
  for (const goal of goals) lines.push(`goal: ${labels.get(goal.id)}: ${goal.text}: ${goal.met ? 'met' : 'NOT met'}`);
  return lines.join('\n');
}
