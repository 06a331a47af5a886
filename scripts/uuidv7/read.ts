/**
 * What a database has of uuidv7(): the recorded strategy and pgstrap's functions. Each reader asks all of
 * its questions in one round trip; the strategy table is read last, since it is missing until the first
 * setup (the server then logs that the relation does not exist, and the answer is "not recorded").
 */
import type pg from 'pg';
import type { FallbackRandom } from '../config/types.ts';
import { fallbackRandomOf, STATE_SCHEMA, STRATEGY_TABLE } from './sql.ts';
import { UUIDV7_STRATEGIES, type FunctionState, type Uuidv7State, type Uuidv7Strategy } from './strategy.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { PipelineError, queryPipeline, SERVER_VERSION, toServerVersion, type PipelinedStatement, type PipelineRow } from '../server/connection.ts';

const READ_STRATEGY: PipelinedStatement = { text: `SELECT strategy FROM ${quoteIdent(STATE_SCHEMA)}.${quoteIdent(STRATEGY_TABLE)}` };

/**
 * Runs `statements` then reads the strategy, in one round trip: their rows, and the strategy (undefined when none is
 * recorded, or when the role may not read the record: `denied` then says why).
 */
async function withRecordedStrategy(
  client: pg.Client,
  statements: PipelinedStatement[],
): Promise<{ rows: PipelineRow[][]; strategy: Uuidv7Strategy | undefined; denied?: string | undefined }> {
  let results: PipelineRow[][];
  try {
    results = await queryPipeline(client, [...statements, READ_STRATEGY]);
  } catch (error) {
    const code = error instanceof PipelineError && error.index === statements.length ? (error.serverError as { code?: string }).code : undefined;
    // 42P01: no record yet. 42501: another role made it, and this one may not read it.
    if (code !== '42P01' && code !== '42501') throw error instanceof PipelineError ? error.serverError : error;
    return { rows: (error as PipelineError).results, strategy: undefined, denied: code === '42501' ? (error as PipelineError).message : undefined };
  }
  const strategy = results[statements.length]![0]?.strategy as string | undefined;
  return { rows: results.slice(0, statements.length), strategy: (UUIDV7_STRATEGIES as readonly string[]).includes(strategy ?? '') ? (strategy as Uuidv7Strategy) : undefined };
}

/** The strategy recorded in the connected database ('native' | 'pg_uuidv7' | 'fallback'), or undefined. */
export async function readUuidv7Strategy(client: pg.Client): Promise<Uuidv7Strategy | undefined> {
  return (await withRecordedStrategy(client, [])).strategy;
}

/** One function by schema, name and argument types (e.g. '' or 'uuid'), with its comment and dependents. */
function functionStatement(schema: string, name: string, args: string): PipelinedStatement {
  return {
    text: `SELECT p.prosrc, obj_description(p.oid, 'pg_proc') AS comment,
            (SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid AND d.deptype = 'n')::int AS dependents
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2 AND oidvectortypes(p.proargtypes) = $3`,
    values: [schema, name, args],
  };
}

/** The row functionStatement found, if any. */
function toFunctionState(rows: readonly PipelineRow[]): FunctionState | undefined {
  const row = rows[0] as { prosrc: string; comment: string | null; dependents: number } | undefined;
  return row ? { source: row.prosrc, comment: row.comment ?? undefined, dependents: row.dependents } : undefined;
}

/** Everything planUuidv7 needs about the connected database. */
export async function readUuidv7State(client: pg.Client, schema: string): Promise<Uuidv7State> {
  const { rows, strategy, denied } = await withRecordedStrategy(client, [
    { text: "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_uuidv7'" },
    SERVER_VERSION,
    functionStatement(schema, 'uuidv7', ''),
    functionStatement(schema, 'uuidv7_extract_timestamp', 'uuid'),
  ]);
  const [extension, version, uuidv7, extract] = rows;
  return {
    serverVersionNum: toServerVersion(version!).versionNum,
    pgUuidv7Schema: extension![0]?.nspname as string | undefined,
    uuidv7: toFunctionState(uuidv7!),
    extract: toFunctionState(extract!),
    recorded: strategy,
    recordDenied: denied,
  };
}

/**
 * The recorded strategy, which of pgstrap's SQL fallbacks `<schema>.uuidv7()` is (undefined when it is not one),
 * and whether a transaction here is read-only (a standby, default_transaction_read_only), in one round trip.
 */
export async function readStrategyAndFallback(
  client: pg.Client,
  schema: string,
): Promise<{ strategy: Uuidv7Strategy | undefined; fallbackRandom: FallbackRandom | undefined; readOnly: boolean; recordDenied?: string | undefined }> {
  const { rows, strategy, denied } = await withRecordedStrategy(client, [functionStatement(schema, 'uuidv7', ''), { text: "SELECT current_setting('transaction_read_only') = 'on' AS read_only" }]);
  const fn = toFunctionState(rows[0]!);
  return { strategy, fallbackRandom: fn ? fallbackRandomOf(fn.source) : undefined, readOnly: rows[1]![0]!.read_only === true, recordDenied: denied };
}
