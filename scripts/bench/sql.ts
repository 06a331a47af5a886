/**
 * SQL text for the primary-key benchmark. Every object it creates lives in one schema whose name and
 * comment mark it as this run's, so clean-up can prove ownership before it drops anything. Pure.
 */
import { quoteIdent, quoteLiteral } from '../shared/identifiers.ts';
import type { Generator } from './model.ts';

/** Every bench schema's name starts so; nothing else is ever dropped. */
export const BENCH_SCHEMA_PREFIX = 'pgstrap_bench_';

const BENCH_SCHEMA = /^pgstrap_bench_\d+_[0-9a-f]{6}$/;

/** A schema name unique to this process and run: `pgstrap_bench_<pid>_<6 hex>`. */
export function benchSchemaName(pid: number, token: string): string {
  const name = `${BENCH_SCHEMA_PREFIX}${pid}_${token}`;
  if (!BENCH_SCHEMA.test(name)) throw new Error(`not a bench schema name: ${name}`);
  return name;
}

/** True for names benchSchemaName makes. */
export function isBenchSchemaName(name: string): boolean {
  return BENCH_SCHEMA.test(name);
}

/** The comment that marks a schema as created by one bench run. */
export function ownershipComment(schema: string): string {
  return `created by pgstrap bench (${schema}); dropped when the run ends`;
}

/** Creates the schema (failing if it exists: it is then not ours) and marks it. */
export function createSchemaSql(schema: string): string[] {
  return [`CREATE SCHEMA ${quoteIdent(schema)}`, `COMMENT ON SCHEMA ${quoteIdent(schema)} IS ${quoteLiteral(ownershipComment(schema))}`];
}

/** Reads a schema's comment, to check it is ours before dropping it ($1: the schema name). */
export const SCHEMA_COMMENT_SQL = `SELECT obj_description(oid, 'pg_namespace') AS comment FROM pg_namespace WHERE nspname = $1`;

/** Drops a bench schema and everything in it; refuses any other name. */
export function dropSchemaSql(schema: string): string {
  if (!isBenchSchemaName(schema)) throw new Error(`refusing to drop ${schema}: not a bench schema`);
  return `DROP SCHEMA IF EXISTS ${quoteIdent(schema)} CASCADE`;
}

/** Objects outside the schema that depend on something inside it: a cascade would drop them, so clean-up refuses ($1: schema). */
export const OUTSIDE_DEPENDENTS_SQL = `
SELECT count(*)::int AS n
FROM pg_depend d
JOIN pg_class c ON d.refclassid = 'pg_class'::regclass AND d.refobjid = c.oid
JOIN pg_namespace ns ON ns.oid = c.relnamespace AND ns.nspname = $1
JOIN pg_class dc ON d.classid = 'pg_class'::regclass AND d.objid = dc.oid
JOIN pg_namespace dns ON dns.oid = dc.relnamespace AND dns.nspname <> $1
WHERE d.deptype = 'n'`;

/** The schema an extension is installed in ($1: its name); no row when it is not installed. */
export const EXTENSION_SCHEMA_SQL = `SELECT n.nspname AS schema FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = $1`;

/** Whether uuidv7() resolves on the search path (native, pgstrap's wrapper or fallback). */
export const HAS_UUIDV7_SQL = `SELECT to_regprocedure('uuidv7()') IS NOT NULL AS ok`;

/** The table name for one generator, e.g. `keys_v4`. */
export function tableName(generator: Generator): string {
  return `keys_${generator.id}`;
}

/** Qualified, quoted `schema.table`. */
export function qualified(schema: string, name: string): string {
  return `${quoteIdent(schema)}.${quoteIdent(name)}`;
}

/**
 * A queue-like table as the seed describes (llm_requests): the key from the generator, a status, a
 * payload and a timestamp; no index but the primary key, so each query's cost is the key's.
 */
export function createTableSql(schema: string, generator: Generator): string {
  return `CREATE TABLE ${qualified(schema, tableName(generator))} (
  id uuid PRIMARY KEY DEFAULT ${generator.expression},
  status text NOT NULL,
  payload text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp()
)`;
}

/**
 * Bulk load of $1 rows in one statement. The newest 1% are 'pending', the rest 'done': a queue whose
 * workers keep up, where the pending rows are the recent ones.
 */
export function bulkInsertSql(schema: string, generator: Generator): string {
  return `INSERT INTO ${qualified(schema, tableName(generator))} (status, payload)
SELECT CASE WHEN i > $1::int - greatest($1::int / 100, 1) THEN 'pending' ELSE 'done' END, md5(i::text)
FROM generate_series(1, $1::int) AS i`;
}

/**
 * One single-row insert transaction, as an application makes them ($1: hashed into the payload). The
 * row is as wide as the bulk-loaded ones: a narrower row would fit into the few bytes each bulk-loaded
 * heap page has left, land on a random old page and log a full-page image for every insert.
 */
export function singleInsertSql(schema: string, generator: Generator): string {
  return `INSERT INTO ${qualified(schema, tableName(generator))} (status, payload) VALUES ('pending', md5($1::text))`;
}

/** The seed's polling query. */
export function pollingSql(schema: string, generator: Generator): string {
  return `SELECT * FROM ${qualified(schema, tableName(generator))} WHERE status = 'pending' ORDER BY id DESC LIMIT 50`;
}

/** The polling index the shipped llm_requests migration has: (status, id DESC). */
export function createPollingIndexSql(schema: string, generator: Generator): string {
  return `CREATE INDEX ${quoteIdent(`${tableName(generator)}_polling`)} ON ${qualified(schema, tableName(generator))} (status, id DESC)`;
}

/** Drops it again, so the single-row inserts maintain the primary key alone, as in the seeds' runs. */
export function dropPollingIndexSql(schema: string, generator: Generator): string {
  return `DROP INDEX ${qualified(schema, `${tableName(generator)}_polling`)}`;
}

/** One keyset page after $1. */
export function keysetSql(schema: string, generator: Generator): string {
  return `SELECT * FROM ${qualified(schema, tableName(generator))} WHERE id > $1 ORDER BY id LIMIT 50`;
}

/** Counts keys whose version nibble or RFC 9562 variant bits are wrong ($1: the expected version). */
export function keyCheckSql(schema: string, generator: Generator): string {
  return `SELECT count(*)::int AS checked,
  count(*) FILTER (WHERE get_byte(uuid_send(id), 6) >> 4 <> $1::int)::int AS wrong_version,
  count(*) FILTER (WHERE get_byte(uuid_send(id), 8) >> 6 <> 2)::int AS wrong_variant
FROM ${qualified(schema, tableName(generator))}`;
}

/** Size of the table's primary-key index in bytes. */
export function indexSizeSql(schema: string, generator: Generator): string {
  return `SELECT pg_relation_size(${quoteLiteral(`${quoteIdent(schema)}.${quoteIdent(`${tableName(generator)}_pkey`)}`)}::regclass)::bigint AS bytes`;
}

/** pgstatindex of the primary key, with the function qualified by the schema pgstattuple lives in. */
export function pgstatindexSql(extensionSchema: string, schema: string, generator: Generator): string {
  const index = `${quoteIdent(schema)}.${quoteIdent(`${tableName(generator)}_pkey`)}`;
  return `SELECT avg_leaf_density::float8 AS density, leaf_fragmentation::float8 AS fragmentation
FROM ${quoteIdent(extensionSchema)}.pgstatindex(${quoteLiteral(index)}::regclass)`;
}

/** VACUUM (ANALYZE): hint bits and the visibility map set, so every generator's queries start alike; pg_stats filled. */
export function vacuumAnalyzeSql(schema: string, generator: Generator): string {
  return `VACUUM (ANALYZE) ${qualified(schema, tableName(generator))}`;
}

/** Drops one generator's table (after a failed measurement; the schema's drop removes the rest). */
export function dropTableSql(schema: string, generator: Generator): string {
  return `DROP TABLE IF EXISTS ${qualified(schema, tableName(generator))}`;
}

/** The key column's physical-order correlation ($1: schema, $2: table). */
export const CORRELATION_SQL = `SELECT correlation::float8 AS correlation FROM pg_stats WHERE schemaname = $1 AND tablename = $2 AND attname = 'id'`;

/** The current WAL insert position, for before/after differences. */
export const WAL_LSN_SQL = `SELECT pg_current_wal_insert_lsn()::text AS lsn`;

/** Bytes of WAL between two positions ($1, $2). */
export const WAL_DIFF_SQL = `SELECT pg_wal_lsn_diff($2::pg_lsn, $1::pg_lsn)::float8 AS bytes`;

/**
 * Runs a statement under EXPLAIN ANALYZE with WAL counters: the WAL this backend wrote for it alone,
 * unlike an LSN difference, which counts every session's writes on a shared server.
 */
export function explainWalSql(sql: string): string {
  return `EXPLAIN (ANALYZE, WAL, TIMING OFF, COSTS OFF, FORMAT JSON) ${sql}`;
}

/** The WAL bytes of the top plan node (it includes its children's) from EXPLAIN's JSON. */
export function walBytesOfExplain(plan: unknown): number {
  const row = Array.isArray(plan) ? (plan[0] as { Plan?: Record<string, unknown> } | undefined) : undefined;
  const bytes = row?.Plan?.['WAL Bytes'];
  if (typeof bytes !== 'number') throw new Error('EXPLAIN output has no WAL Bytes (PostgreSQL 13 or later is needed)');
  return bytes;
}

/** Client sessions doing work that are not this run's ($1: the run's application_name). */
export const OTHER_ACTIVITY_SQL = `SELECT count(*)::int AS n FROM pg_stat_activity
WHERE backend_type = 'client backend' AND state = 'active' AND pid <> pg_backend_pid() AND application_name <> $1`;
