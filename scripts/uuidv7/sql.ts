/**
 * SQL text for uuidv7(): the SQL fallback, the pg_uuidv7 wrapper, a timestamp reader that works on
 * every version, and the record of which strategy a database uses. Pure: no I/O.
 */
import { FALLBACK_RANDOM_CHOICES, type FallbackRandom } from '../config/types.ts';
import { quoteIdent, quoteLiteral } from '../shared/identifiers.ts';

/**
 * The custom setting that holds a session's last id (its first half), so ids stay in order when the clock
 * does not move. Short on purpose: each id looks the name up three times, and the hashing and comparing of
 * a 19-character name was 9% of the fallback's instructions.
 */
export const FALLBACK_CLOCK_SETTING = 'pgstrap.v7';

/** Marks a function as pgstrap's, so it is replaced or dropped only when pgstrap created it. */
export const MANAGED_MARKER = 'managed by pgstrap';

/** Schema and table that record each database's strategy (doctor and verify read it). */
export const STATE_SCHEMA = 'pgstrap';
export const STRATEGY_TABLE = 'uuidv7_strategy';


/**
 * The last 8 bytes of the id: the RFC variant (10) and 62 random bits. `fast` XORs in the backend pid so
 * that two sessions whose random() was seeded alike by setseed() still draw different bits.
 */
function randomHalfSql(random: FallbackRandom): string {
  return random === 'strong'
    ? 'pg_catalog.substr(pg_catalog.uuid_send(pg_catalog.gen_random_uuid()), 9)'
    : 'pg_catalog.int8send(((((pg_catalog.random() * 4294967296)::bigint << 30) # (pg_catalog.random() * 4294967296)::bigint # pg_catalog.pg_backend_pid()) & 4611686018427387903) | -9223372036854775808)';
}

/**
 * The fallback body. One inlinable SQL expression (no PL/pgSQL call overhead) in the RFC 9562 layout:
 * 48-bit Unix milliseconds, version 7, 12 bits of rand_a, then the variant and 62 random bits (see
 * FallbackRandom).
 *
 * rand_a is a counter within the millisecond (RFC 9562 method 1), so ids are strictly increasing within
 * a session even when the clock has not moved. The session's last first-half lives in a session-level
 * custom setting, with the version nibble stored as 0xF: adding one then carries a full counter (0xFFF)
 * through the nibble into the milliseconds, and `| 0xF000` restores it, so the next value is
 *   max(clock milliseconds << 16 | 0xF000, (last + 1) | 0xF000)
 * and clearing bit 15 turns 0xF into the version, 7. Every value is used once, so no evaluation order
 * is relied on (the order of a function's arguments is not defined) and set_config's own result is the
 * id's first half: one setting read and one write per id. (PostgreSQL 18's sub-millisecond fraction
 * needs the clock twice: 10% more instructions.) Bytes rather than text: text functions are
 * multibyte-aware and cost about as much again.
 */
export function fallbackBody(random: FallbackRandom): string {
  const setting = quoteLiteral(FALLBACK_CLOCK_SETTING);
  return [
    `SELECT pg_catalog.encode(pg_catalog.int8send(pg_catalog.set_config(${setting}, GREATEST(`,
    "    (pg_catalog.floor(pg_catalog.date_part('epoch', pg_catalog.clock_timestamp()) * 1000)::bigint << 16) | 61440,",
    `    (COALESCE(NULLIF(pg_catalog.current_setting(${setting}, true), '')::bigint, 0) + 1) | 61440)::text, false)::bigint & -32769)`,
    `  || ${randomHalfSql(random)}, 'hex')::uuid`,
  ].join('\n');
}

/** Which FallbackRandom a function body is, or undefined when it is neither of pgstrap's fallbacks. */
export function fallbackRandomOf(source: string): FallbackRandom | undefined {
  return FALLBACK_RANDOM_CHOICES.find((random) => fallbackBody(random).trim() === source.trim());
}

/** The body of uuidv7_extract_timestamp(uuid): the first 48 bits are Unix milliseconds. */
export function extractTimestampBody(): string {
  return [
    "SELECT CASE WHEN pg_catalog.substr(id::text, 15, 1) = '7' THEN pg_catalog.to_timestamp(",
    "  ('x' || pg_catalog.lpad(pg_catalog.replace(pg_catalog.\"left\"(id::text, 13), '-', ''), 16, '0'))::bit(64)::bigint::double precision / 1000) END",
  ].join('\n');
}

/**
 * Reads the Unix-millisecond timestamp of a version 7 UUID (NULL for other versions), on every
 * PostgreSQL version: 17's uuid_extract_timestamp() returns NULL for v7.
 */
export function extractTimestampSql(schema: string): string {
  return [
    `CREATE OR REPLACE FUNCTION ${quoteIdent(schema)}.uuidv7_extract_timestamp(id uuid) RETURNS timestamptz`,
    // Not STRICT: a strict function whose body is a CASE is never inlined, and calls cost ~10x.
    'LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $pgstrap$',
    extractTimestampBody(),
    '$pgstrap$;',
    `COMMENT ON FUNCTION ${quoteIdent(schema)}.uuidv7_extract_timestamp(uuid) IS ${quoteLiteral(`The millisecond timestamp of a version 7 UUID, on every PostgreSQL version (${MANAGED_MARKER}).`)};`,
  ].join('\n');
}

/** What setup and doctor say where the opted-in `fast` fallback serves a shared server, with the way out. */
export const FAST_RANDOM_CAVEAT =
  "the SQL fallback's ids are unique and in order, but their random bits come from random() (uuidv7.fallbackRandom: 'fast'), so they are not unguessable: if they must be, remove that key (the default is 'strong') or install pg_uuidv7";

/** How reports name each FallbackRandom. */
export const FALLBACK_RANDOM_WORDS: Record<FallbackRandom, string> = {
  fast: 'random bits from random()',
  strong: 'random bits from gen_random_uuid()',
};

/**
 * `CREATE OR REPLACE FUNCTION <schema>.uuidv7()` with a body and a comment (which carries MANAGED_MARKER).
 * Always VOLATILE: each call must give a new id, and the planner still inlines a VOLATILE SQL body.
 */
function uuidv7FunctionSql(schema: string, parallel: 'SAFE' | 'UNSAFE', body: string, comment: string): string {
  const fn = `${quoteIdent(schema)}.uuidv7()`;
  return [
    `CREATE OR REPLACE FUNCTION ${fn} RETURNS uuid LANGUAGE sql VOLATILE PARALLEL ${parallel} AS $pgstrap$`,
    body,
    '$pgstrap$;',
    `COMMENT ON FUNCTION ${fn} IS ${quoteLiteral(`${comment} (${MANAGED_MARKER}).`)};`,
  ].join('\n');
}

/** SQL that creates `<schema>.uuidv7()` (the SQL fallback) and `<schema>.uuidv7_extract_timestamp(uuid)`. */
export function installFallbackSql(schema: string, random: FallbackRandom): string {
  // PARALLEL UNSAFE: set_config is.
  const comment = `RFC 9562 version 7 UUID, in order within a session: SQL fallback, ${FALLBACK_RANDOM_WORDS[random]}`;
  return [uuidv7FunctionSql(schema, 'UNSAFE', fallbackBody(random), comment), extractTimestampSql(schema)].join('\n');
}

/** SQL that creates `<schema>.uuidv7()` calling pg_uuidv7's uuid_generate_v7() from `extensionSchema`. */
export function installWrapperSql(schema: string, extensionSchema: string): string {
  const comment = 'RFC 9562 version 7 UUID from the pg_uuidv7 extension';
  return [uuidv7FunctionSql(schema, 'SAFE', wrapperBody(extensionSchema), comment), extractTimestampSql(schema)].join('\n');
}

/** The body of the pg_uuidv7 wrapper. */
export function wrapperBody(extensionSchema: string): string {
  return `SELECT ${quoteIdent(extensionSchema)}.uuid_generate_v7()`;
}

/** The body of a kept wrapper on PostgreSQL 18+: column defaults still name it, so it calls the native function. */
export const NATIVE_WRAPPER_BODY = 'SELECT pg_catalog.uuidv7()';

/**
 * SQL that turns pgstrap's `<schema>.uuidv7()` into a call of the native one, for PostgreSQL 18+ when
 * column defaults depend on it and it cannot be dropped: no second generator is left behind.
 */
export function nativeWrapperSql(schema: string): string {
  return uuidv7FunctionSql(schema, 'SAFE', NATIVE_WRAPPER_BODY, 'Calls the native uuidv7(); kept because column defaults name it');
}

/** SQL that drops pgstrap's `<schema>.uuidv7()` (native uuidv7() exists from PostgreSQL 18). */
export function dropWrapperSql(schema: string): string {
  return `DROP FUNCTION IF EXISTS ${quoteIdent(schema)}.uuidv7();`;
}

/** SQL that creates the strategy record (idempotent). */
export function createStrategyTableSql(): string {
  const table = `${quoteIdent(STATE_SCHEMA)}.${quoteIdent(STRATEGY_TABLE)}`;
  return [
    `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(STATE_SCHEMA)};`,
    `CREATE TABLE IF NOT EXISTS ${table} (`,
    '  singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),',
    '  strategy text NOT NULL,',
    '  function_schema text,',
    '  server_version_num integer NOT NULL,',
    '  recorded_at timestamptz NOT NULL DEFAULT now()',
    ');',
  ].join('\n');
}

/** Upsert of the strategy record; parameters: $1 strategy, $2 function schema (or null), $3 server_version_num. */
export const RECORD_STRATEGY_SQL = [
  `INSERT INTO ${quoteIdent(STATE_SCHEMA)}.${quoteIdent(STRATEGY_TABLE)} (strategy, function_schema, server_version_num)`,
  'VALUES ($1, $2, $3)',
  'ON CONFLICT (singleton) DO UPDATE SET strategy = EXCLUDED.strategy, function_schema = EXCLUDED.function_schema,',
  '  server_version_num = EXCLUDED.server_version_num, recorded_at = now()',
].join('\n');
