/** What a database has of uuidv7(): the recorded strategy and pgstrap's functions. */
import type pg from 'pg';
import { fallbackRandomOf, STATE_SCHEMA, STRATEGY_TABLE, type FallbackRandom } from '../core/uuidv7/sql.ts';
import { UUIDV7_STRATEGIES, type FunctionState, type Uuidv7State, type Uuidv7Strategy } from '../core/uuidv7/strategy.ts';
import { quoteIdent } from '../core/identifiers.ts';
import { serverVersionNum } from './inspect.ts';

/** The strategy recorded in the connected database ('native' | 'pg_uuidv7' | 'fallback'), or undefined. */
export async function readUuidv7Strategy(client: pg.Client): Promise<Uuidv7Strategy | undefined> {
  const table = `${quoteIdent(STATE_SCHEMA)}.${quoteIdent(STRATEGY_TABLE)}`;
  const { rows: exists } = await client.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [table]);
  if (exists[0]?.t == null) return undefined;
  const { rows } = await client.query<{ strategy: string }>(`SELECT strategy FROM ${table}`);
  const strategy = rows[0]?.strategy;
  return (UUIDV7_STRATEGIES as readonly string[]).includes(strategy ?? '') ? (strategy as Uuidv7Strategy) : undefined;
}

/** One function by schema, name and argument types (e.g. '' or 'uuid'), with its comment and dependents. */
async function readFunction(client: pg.Client, schema: string, name: string, args: string): Promise<FunctionState | undefined> {
  const { rows } = await client.query<{ prosrc: string; comment: string | null; dependents: number }>(
    `SELECT p.prosrc, obj_description(p.oid, 'pg_proc') AS comment,
            (SELECT count(*) FROM pg_depend d WHERE d.refclassid = 'pg_proc'::regclass AND d.refobjid = p.oid AND d.deptype = 'n')::int AS dependents
       FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
      WHERE n.nspname = $1 AND p.proname = $2 AND oidvectortypes(p.proargtypes) = $3`,
    [schema, name, args],
  );
  const row = rows[0];
  return row ? { source: row.prosrc, comment: row.comment ?? undefined, dependents: row.dependents } : undefined;
}

/** Everything planUuidv7 needs about the connected database. */
export async function readUuidv7State(client: pg.Client, schema: string): Promise<Uuidv7State> {
  const { rows } = await client.query<{ nspname: string }>(
    "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_uuidv7'",
  );
  return {
    serverVersionNum: await serverVersionNum(client),
    pgUuidv7Schema: rows[0]?.nspname,
    uuidv7: await readFunction(client, schema, 'uuidv7', ''),
    extract: await readFunction(client, schema, 'uuidv7_extract_timestamp', 'uuid'),
    recorded: await readUuidv7Strategy(client),
  };
}

/** Which of pgstrap's SQL fallbacks `<schema>.uuidv7()` is, or undefined when it is not one. */
export async function readFallbackRandom(client: pg.Client, schema: string): Promise<FallbackRandom | undefined> {
  const fn = await readFunction(client, schema, 'uuidv7', '');
  return fn ? fallbackRandomOf(fn.source) : undefined;
}
