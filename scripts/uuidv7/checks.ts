/**
 * What `verify` asks of a uuidv7(): the SQL that measures a batch of ids, and the verdict on the
 * numbers. Pure: the verify step runs the SQL.
 */
import { quoteIdent } from '../shared/identifiers.ts';

/** How many ids verify draws from each generator: the full proof, after a change or on its own. */
export const VERIFY_BATCH = 10_000;

/**
 * How many when the run before it changed nothing (a warm setup): every check still runs, on fewer ids, and
 * the key-default table takes as many rows. 1,000 ids and rows took 54 ms per database in one run here (load
 * average 4), 100 took 16 ms; the full proof follows any change, and `npm run verify` always makes it.
 */
export const QUICK_VERIFY_BATCH = 100;

/** Rows the key-default table takes with a batch of `batch` ids: as many, at most 1,000 (a bulk insert proves it). */
export function defaultRowsFor(batch: number): number {
  return Math.min(batch, 1_000);
}

/** The batch for a run whose earlier steps changed nothing (`unchanged`), else the full one. */
export function verifyBatchSize(unchanged: boolean): number {
  return unchanged ? QUICK_VERIFY_BATCH : VERIFY_BATCH;
}

/** How far an id's timestamp may be from the server clock. */
export const CLOCK_TOLERANCE_SECONDS = 1;

/** The numbers one batch produced. */
export interface BatchResult {
  total: number;
  distinct: number;
  wrongVersion: number;
  wrongVariant: number;
  /** Timestamps missing or further than CLOCK_TOLERANCE_SECONDS from the server clock. */
  offClock: number;
  /** Consecutive pairs where the later id is not greater than the earlier one. */
  outOfOrder: number;
  /** Largest distance of a timestamp from the statement's start, in seconds. */
  maxSkewSeconds: number;
}

/**
 * One statement that draws `$1` ids from `generator` (e.g. `uuidv7()`, `"s".uuidv7()`) in sequence and
 * measures them; `extractSchema` holds the uuidv7_extract_timestamp(uuid) that reads their timestamps.
 */
export function batchSql(generator: string, extractSchema: string): string {
  const extract = `${quoteIdent(extractSchema)}.uuidv7_extract_timestamp`;
  return [
    `WITH g AS (SELECT n, ${generator} AS id FROM generate_series(1, $1::int) AS n),`,
    `s AS (SELECT id, lag(id) OVER (ORDER BY n) AS prev, ${extract}(id) AS ts FROM g)`,
    'SELECT count(*)::int AS total,',
    '  count(DISTINCT id)::int AS distinct,',
    "  count(*) FILTER (WHERE substr(id::text, 15, 1) <> '7')::int AS wrong_version,",
    "  count(*) FILTER (WHERE substr(id::text, 20, 1) NOT IN ('8', '9', 'a', 'b'))::int AS wrong_variant,",
    `  count(*) FILTER (WHERE ts IS NULL OR ts < statement_timestamp() - interval '${CLOCK_TOLERANCE_SECONDS} second'`,
    `    OR ts > clock_timestamp() + interval '${CLOCK_TOLERANCE_SECONDS} second')::int AS off_clock,`,
    '  count(*) FILTER (WHERE prev IS NOT NULL AND id <= prev)::int AS out_of_order,',
    '  coalesce(max(abs(extract(epoch FROM ts - statement_timestamp()))), 0)::float8 AS max_skew',
    'FROM s',
  ].join('\n');
}

/** Maps the row batchSql returns. */
export function toBatchResult(row: Record<string, unknown>): BatchResult {
  return {
    total: Number(row.total),
    distinct: Number(row.distinct),
    wrongVersion: Number(row.wrong_version),
    wrongVariant: Number(row.wrong_variant),
    offClock: Number(row.off_clock),
    outOfOrder: Number(row.out_of_order),
    maxSkewSeconds: Number(row.max_skew),
  };
}

/** What a batch showed: failures (empty when it passed) and facts to report either way. */
export interface BatchVerdict {
  failures: string[];
  facts: string[];
}

/** Judges a batch; disorder fails only where the strategy promises order, else it is a reported fact. */
export function judgeBatch(result: BatchResult, expected: number, promisesOrder: boolean): BatchVerdict {
  const failures: string[] = [];
  if (result.total !== expected) failures.push(`${result.total} of ${expected} ids were produced`);
  if (result.distinct !== result.total) failures.push(`${result.total - result.distinct} duplicate ids`);
  if (result.wrongVersion > 0) failures.push(`${result.wrongVersion} ids are not version 7`);
  if (result.wrongVariant > 0) failures.push(`${result.wrongVariant} ids lack the RFC 9562 variant`);
  if (result.offClock > 0) failures.push(`${result.offClock} timestamps are more than ${CLOCK_TOLERANCE_SECONDS} s from the server clock (or unreadable)`);
  const pairs = Math.max(result.total - 1, 0);
  const order = `${result.outOfOrder} of ${pairs} consecutive pairs out of order`;
  if (promisesOrder && result.outOfOrder > 0) failures.push(`${order}, though this strategy promises order within a session`);
  const facts = [
    `${result.total} ids: version 7, RFC variant, unique, within ${result.maxSkewSeconds.toFixed(3)} s of the server clock`,
    promisesOrder ? `in order (${order})` : `${order}; expected: this generator does not promise order inside a millisecond`,
  ];
  return { failures, facts };
}

/**
 * Statements that prove a table takes `rows` rows with `generator` as its key default, as migrations write it
 * (the row count a parameter).
 */
export function defaultSql(generator: string, rows: number): Array<{ text: string; values?: readonly unknown[] }> {
  return [
    { text: `CREATE TEMP TABLE pgstrap_verify_default (id uuid PRIMARY KEY DEFAULT ${generator}, n int) ON COMMIT DROP` },
    { text: 'INSERT INTO pgstrap_verify_default (n) SELECT generate_series(1, $1::int)', values: [rows] },
    // The seed documents' form: it must parse and run unchanged.
    { text: `CREATE TEMP TABLE pgstrap_verify_coalesce (id uuid PRIMARY KEY DEFAULT COALESCE(${generator}, gen_random_uuid())) ON COMMIT DROP` },
    { text: 'INSERT INTO pgstrap_verify_coalesce DEFAULT VALUES' },
  ];
}

/** Counts rows the default statements inserted (insertedRows says how many there must be). */
export const DEFAULT_ROWS_SQL =
  'SELECT (SELECT count(*) FROM pgstrap_verify_default)::int + (SELECT count(*) FROM pgstrap_verify_coalesce)::int AS n';

/** Rows defaultSql inserts: `rows` and the COALESCE table's one. */
export function insertedRows(rows: number): number {
  return rows + 1;
}
