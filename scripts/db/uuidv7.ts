/** What a database has of uuidv7(): the recorded strategy and pgstrap's functions. */
import type pg from 'pg';
import { fallbackRandomOf, STATE_SCHEMA, STRATEGY_TABLE, type FallbackRandom } from '../core/uuidv7/sql.ts';
import { UUIDV7_STRATEGIES, type FunctionState, type Uuidv7State, type Uuidv7Strategy } from '../core/uuidv7/strategy.ts';
import { quoteIdent } from '../core/identifiers.ts';

const STRATEGY_TABLE_NAME = `${quoteIdent(STATE_SCHEMA)}.${quoteIdent(STRATEGY_TABLE)}`;

/** The recorded strategy, given whether its table exists (the table cannot be named in a query before it does). */
async function readRecorded(client: pg.Client, tableExists: boolean): Promise<Uuidv7Strategy | undefined> {
  if (!tableExists) return undefined;
  const { rows } = await client.query<{ strategy: string }>(`SELECT strategy FROM ${STRATEGY_TABLE_NAME}`);
  const strategy = rows[0]?.strategy;
  return (UUIDV7_STRATEGIES as readonly string[]).includes(strategy ?? '') ? (strategy as Uuidv7Strategy) : undefined;
}

/** The strategy recorded in the connected database ('native' | 'pg_uuidv7' | 'fallback'), or undefined. */
export async function readUuidv7Strategy(client: pg.Client): Promise<Uuidv7Strategy | undefined> {
  const { rows } = await client.query<{ exists: boolean }>('SELECT to_regclass($1) IS NOT NULL AS exists', [STRATEGY_TABLE_NAME]);
  return readRecorded(client, rows[0]!.exists);
}

/** A function by schema ($1), name and argument types as JSON (source, comment, dependents), or NULL. */
function functionJsonSql(name: string, args: string): string {
  return `(SELECT json_build_object('source', p.prosrc, 'comment', obj_description(p.oid, 'pg_proc'),
            'dependents', (SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid AND d.deptype = 'n'))
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = '${name}' AND oidvectortypes(p.proargtypes) = '${args}')`;
}

interface FunctionJson {
  source: string;
  comment: string | null;
  dependents: number;
}

function toFunctionState(row: FunctionJson | null): FunctionState | undefined {
  return row ? { source: row.source, comment: row.comment ?? undefined, dependents: Number(row.dependents) } : undefined;
}

/** Everything planUuidv7 needs about the connected database: one query, and one more for the record when it exists. */
export async function readUuidv7State(client: pg.Client, schema: string): Promise<Uuidv7State> {
  const { rows } = await client.query<{ version: number; ext: string | null; uuidv7: FunctionJson | null; extract: FunctionJson | null; recorded: boolean }>(
    `SELECT current_setting('server_version_num')::int AS version,
            (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_uuidv7') AS ext,
            ${functionJsonSql('uuidv7', '')} AS uuidv7,
            ${functionJsonSql('uuidv7_extract_timestamp', 'uuid')} AS extract,
            to_regclass($2) IS NOT NULL AS recorded`,
    [schema, STRATEGY_TABLE_NAME],
  );
  const row = rows[0]!;
  return {
    serverVersionNum: row.version,
    pgUuidv7Schema: row.ext ?? undefined,
    uuidv7: toFunctionState(row.uuidv7),
    extract: toFunctionState(row.extract),
    recorded: await readRecorded(client, row.recorded),
  };
}

/** Which of pgstrap's SQL fallbacks `<schema>.uuidv7()` is, or undefined when it is not one. */
export async function readFallbackRandom(client: pg.Client, schema: string): Promise<FallbackRandom | undefined> {
  const { rows } = await client.query<{ fn: FunctionJson | null }>(`SELECT ${functionJsonSql('uuidv7', '')} AS fn`, [schema]);
  const fn = toFunctionState(rows[0]!.fn);
  return fn ? fallbackRandomOf(fn.source) : undefined;
}
