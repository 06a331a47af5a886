/**
 * Which uuidv7() a database gets, and what to change to get there. Pure: the step reads the database's
 * state and runs the statements.
 */
import { DEFAULT_UUIDV7_GENERATOR, type FallbackRandom, type Uuidv7Generator } from '../config/types.ts';
import {
  createStrategyTableSql,
  dropWrapperSql,
  extractTimestampBody,
  extractTimestampSql,
  FALLBACK_RANDOM_WORDS,
  fallbackBody,
  fallbackRandomOf,
  installFallbackSql,
  installWrapperSql,
  MANAGED_MARKER,
  NATIVE_WRAPPER_BODY,
  nativeWrapperSql,
  wrapperBody,
} from './sql.ts';

/** `native`: PostgreSQL 18+; `pg_uuidv7`: a wrapper of the extension; `fallback`: pgstrap's SQL function. */
export type Uuidv7Strategy = 'native' | 'pg_uuidv7' | 'fallback';

/** Every strategy, in order of preference. */
export const UUIDV7_STRATEGIES: readonly Uuidv7Strategy[] = ['native', 'pg_uuidv7', 'fallback'];

/** server_version_num from which uuidv7() is built in. */
export const NATIVE_UUIDV7_VERSION_NUM = 180000;

/** The schema pgstrap's uuidv7() and uuidv7_extract_timestamp() live in: on every default search_path. */
export const UUIDV7_SCHEMA = 'public';

/** Whether the strategy promises ids in increasing order within a session. */
export function promisesOrder(strategy: Uuidv7Strategy): boolean {
  // pg_uuidv7 fills everything after the millisecond with random bits.
  return strategy !== 'pg_uuidv7';
}


/** Native from 18; the extension when the database has it and `generator` asks for it; else the SQL fallback. */
export function chooseStrategy(serverVersionNum: number, pgUuidv7Schema: string | undefined, generator: Uuidv7Generator = DEFAULT_UUIDV7_GENERATOR): Uuidv7Strategy {
  if (serverVersionNum >= NATIVE_UUIDV7_VERSION_NUM) return 'native';
  return pgUuidv7Schema !== undefined && generator === 'pg_uuidv7' ? 'pg_uuidv7' : 'fallback';
}

/** A SQL function as the database has it. */
export interface FunctionState {
  /** prosrc: the body. */
  source: string;
  comment: string | undefined;
  /** Objects that depend on it (column defaults): it cannot be dropped while they exist. */
  dependents: number;
}

/** What one database has, as the step reads it. */
export interface Uuidv7State {
  serverVersionNum: number;
  /** Why the strategy record could not be read (the role may not use schema pgstrap), when it could not. */
  recordDenied?: string | undefined;
  /** Schema of the pg_uuidv7 extension, when installed in this database. */
  pgUuidv7Schema: string | undefined;
  /** `<UUIDV7_SCHEMA>.uuidv7()` */
  uuidv7: FunctionState | undefined;
  /** `<UUIDV7_SCHEMA>.uuidv7_extract_timestamp(uuid)` */
  extract: FunctionState | undefined;
  /** The recorded strategy, if any. */
  recorded: Uuidv7Strategy | undefined;
}

/** What to run in one database, and what to say about it. */
export interface Uuidv7Plan {
  strategy: Uuidv7Strategy;
  /** The strategy in words for reports, e.g. 'fallback (random bits from random())'. */
  description: string;
  statements: string[];
  changes: string[];
  notes: string[];
  /** Write the strategy record (RECORD_STRATEGY_SQL) after the statements. */
  record: boolean;
  /** False when a uuidv7() pgstrap did not create is in effect: the strategy is then not in use. */
  managed: boolean;
}

function isManaged(fn: FunctionState | undefined): boolean {
  return fn?.comment?.includes(MANAGED_MARKER) ?? false;
}

function sameBody(fn: FunctionState | undefined, body: string): boolean {
  return fn !== undefined && fn.source.trim() === body.trim();
}

/** A strategy in words: the fallback names where its random bits come from. */
export function describeStrategy(strategy: Uuidv7Strategy, fallbackRandom: FallbackRandom | undefined): string {
  return strategy === 'fallback' && fallbackRandom ? `fallback (${FALLBACK_RANDOM_WORDS[fallbackRandom]})` : strategy;
}

/** What the planner takes from the config's uuidv7 key. */
export interface Uuidv7Choice {
  /** uuidv7.fallbackRandom: the SQL fallback's body. */
  fallbackRandom: FallbackRandom;
  /** uuidv7.generator: which generator where pg_uuidv7 is installed. */
  generator: Uuidv7Generator;
}

/** The statements that bring a database to its strategy; nothing when it is there already. */
export function planUuidv7(state: Uuidv7State, choice: Uuidv7Choice, schema: string = UUIDV7_SCHEMA): Uuidv7Plan {
  const { fallbackRandom } = choice;
  const strategy = chooseStrategy(state.serverVersionNum, state.pgUuidv7Schema, choice.generator);
  const statements: string[] = [];
  const changes: string[] = [];
  const notes: string[] = [];
  let manageable = true;
  const fn = state.uuidv7;
  if (fn !== undefined && !isManaged(fn)) {
    manageable = strategy === 'native';
    notes.push(
      strategy === 'native'
        ? `${schema}.uuidv7() exists and was not created by pgstrap; the native pg_catalog.uuidv7() takes precedence in unqualified calls`
        : `${schema}.uuidv7() exists and was not created by pgstrap: left as it is (verify checks it); drop it to let pgstrap manage uuidv7()`,
    );
  } else if (strategy === 'native') {
    if (fn !== undefined && fn.dependents === 0) {
      statements.push(dropWrapperSql(schema));
      changes.push(`dropped pgstrap's ${schema}.uuidv7(): PostgreSQL 18 has uuidv7() built in`);
    } else if (fn !== undefined && !sameBody(fn, NATIVE_WRAPPER_BODY)) {
      statements.push(nativeWrapperSql(schema));
      changes.push(`${schema}.uuidv7() now calls the native uuidv7() (${fn.dependents} column default${fn.dependents === 1 ? '' : 's'} name it, so it stays)`);
    }
  } else if (strategy === 'pg_uuidv7') {
    if (!sameBody(fn, wrapperBody(state.pgUuidv7Schema!))) {
      statements.push(installWrapperSql(schema, state.pgUuidv7Schema!));
      changes.push(fn ? `replaced ${schema}.uuidv7(): it now calls pg_uuidv7's uuid_generate_v7()` : `created ${schema}.uuidv7() calling pg_uuidv7's uuid_generate_v7()`);
    }
  } else if (!sameBody(fn, fallbackBody(fallbackRandom))) {
    statements.push(installFallbackSql(schema, fallbackRandom));
    const words = FALLBACK_RANDOM_WORDS[fallbackRandom];
    const was = fn ? fallbackRandomOf(fn.source) : undefined;
    const why = state.pgUuidv7Schema !== undefined ? "uuidv7.generator: 'fallback', in order, though pg_uuidv7 is installed" : 'no pg_uuidv7, PostgreSQL before 18';
    changes.push(
      was
        ? `replaced ${schema}.uuidv7(): the SQL fallback now takes its ${words} (uuidv7.fallbackRandom: '${fallbackRandom}', was '${was}')`
        : `${fn ? 'replaced' : 'created'} ${schema}.uuidv7(), pgstrap's SQL fallback (${why}), ${words}`,
    );
  }
  // The timestamp reader exists on every version (installFallbackSql and installWrapperSql include it).
  const installsExtract = statements.some((s) => s.includes('uuidv7_extract_timestamp'));
  if (!installsExtract && (!sameBody(state.extract, extractTimestampBody()) || !isManaged(state.extract))) {
    if (state.extract === undefined || isManaged(state.extract)) {
      statements.push(extractTimestampSql(schema));
      changes.push(`created ${schema}.uuidv7_extract_timestamp(uuid)`);
    } else {
      notes.push(`${schema}.uuidv7_extract_timestamp(uuid) exists and was not created by pgstrap: left as it is`);
    }
  }
  // A uuidv7() pgstrap does not manage is not recorded as one of its strategies.
  const writeRecord = manageable && state.recorded !== strategy;
  if (writeRecord) {
    statements.unshift(createStrategyTableSql());
    changes.push(`recorded strategy ${strategy}${state.recorded ? ` (was ${state.recorded})` : ''}`);
  }
  const description = describeStrategy(strategy, strategy === 'fallback' ? fallbackRandom : undefined);
  return { strategy, description, statements, changes, notes, record: writeRecord, managed: manageable };
}
