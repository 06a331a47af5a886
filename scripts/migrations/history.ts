/** The tracking table: one row per applied migration, in its own schema so it never mixes with the app's. */
import os from 'node:os';
import type pg from 'pg';
import { messageOf } from '../shared/errors.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { trackingTableFailed } from './errors.ts';
import type { AppliedMigration } from './plan.ts';
import type { MigrationSource } from './source.ts';
import { queryPipeline, type PipelinedStatement, type PipelineRow } from '../server/connection.ts';

/** The schema that holds the tracking table. */
export const HISTORY_SCHEMA = 'pgstrap_migrations';
/** The tracking table. */
export const HISTORY_TABLE = 'history';

const TABLE = `${quoteIdent(HISTORY_SCHEMA)}.${quoteIdent(HISTORY_TABLE)}`;

/** Who applies a migration: the operating-system user and host (the database role is recorded too). */
export function appliedBy(): string {
  appliedByName ??= readAppliedBy();
  return appliedByName;
}

let appliedByName: string | undefined;

function readAppliedBy(): string {
  let user: string;
  try {
    user = os.userInfo().username;
  } catch {
    user = process.env.USER ?? 'unknown';
  }
  return `${user}@${os.hostname()}`;
}

/** Creates the schema and table (the caller found them missing); run under the migration lock, since concurrent CREATEs race. */
export async function ensureHistoryTable(client: pg.Client, database: string): Promise<void> {
  try {
    await createHistoryTable(client);
  } catch (error) {
    throw trackingTableFailed(database, `${HISTORY_SCHEMA}.${HISTORY_TABLE}`, messageOf(error), error);
  }
}

/** Creates the schema and table in one round trip, all or nothing (the pipeline is one implicit transaction). */
async function createHistoryTable(client: pg.Client): Promise<void> {
  await queryPipeline(client, [{ text: `CREATE SCHEMA IF NOT EXISTS ${quoteIdent(HISTORY_SCHEMA)}` }, { text: `CREATE TABLE IF NOT EXISTS ${TABLE} (
    version text PRIMARY KEY,
    name text NOT NULL,
    checksum text NOT NULL,
    transactional boolean NOT NULL,
    state text NOT NULL DEFAULT 'applied' CHECK (state IN ('applied', 'running')),
    statements_done integer NOT NULL DEFAULT 0,
    statements_total integer NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now(),
    duration_ms integer,
    applied_by text NOT NULL,
    role name NOT NULL DEFAULT current_user
  )` }, { text: `COMMENT ON TABLE ${TABLE} IS 'Migrations applied by pgstrap (npm run migrate:status)'` }]);
}

/** True when the tracking table exists. */
export async function historyExists(client: pg.Client): Promise<boolean> {
  const { rows } = await client.query<{ t: string | null }>('SELECT to_regclass($1) AS t', [`${quoteIdent(HISTORY_SCHEMA)}.${quoteIdent(HISTORY_TABLE)}`]);
  return rows[0]?.t != null;
}

/** The query that reads every row; it fails with 42P01 when the table does not exist. */
export const READ_HISTORY: PipelinedStatement = {
  text: `SELECT version, name, checksum, transactional, state, statements_done, statements_total, applied_at, duration_ms, applied_by FROM ${TABLE}`,
};

/** Every row, or none when the table does not exist yet. */
export async function readHistory(client: pg.Client): Promise<AppliedMigration[]> {
  if (!(await historyExists(client))) return [];
  return toAppliedMigrations((await client.query(READ_HISTORY.text)).rows);
}

/** The rows READ_HISTORY returned, as the planner takes them. */
export function toAppliedMigrations(rows: readonly PipelineRow[]): AppliedMigration[] {
  return (rows as Array<{
    version: string; name: string; checksum: string; transactional: boolean; state: 'applied' | 'running';
    statements_done: number; statements_total: number; applied_at: Date; duration_ms: number | null; applied_by: string;
  }>).map((r) => ({
    version: r.version,
    name: r.name,
    checksum: r.checksum,
    transactional: r.transactional,
    state: r.state,
    statementsDone: r.statements_done,
    statementsTotal: r.statements_total,
    appliedAt: r.applied_at.toISOString(),
    durationMs: r.duration_ms,
    appliedBy: r.applied_by,
  }));
}

/** Records `source`: `applied` in the same transaction as a transactional file, `running` before a non-transactional one. */
export async function insertHistory(client: pg.Client, source: MigrationSource, state: 'applied' | 'running', durationMs: number | null): Promise<void> {
  await client.query(
    `INSERT INTO ${TABLE} (version, name, checksum, transactional, state, statements_total, statements_done, duration_ms, applied_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
    [source.version, source.name, source.checksum, source.transactional, state, source.up.length, state === 'applied' ? source.up.length : 0, durationMs, appliedBy()],
  );
}

/**
 * The tracking row of a transactional file, to send in its transaction after its statements: its duration
 * is the server's time since the transaction began, so the row needs no round trip of its own.
 */
export function appliedRowStatement(source: MigrationSource): PipelinedStatement {
  return {
    text: `INSERT INTO ${TABLE} (version, name, checksum, transactional, state, statements_total, statements_done, duration_ms, applied_by)
     VALUES ($1, $2, $3, true, 'applied', $4, $4, (extract(epoch FROM clock_timestamp() - now()) * 1000)::integer, $5)
     RETURNING duration_ms`,
    values: [source.version, source.name, source.checksum, source.up.length, appliedBy()],
  };
}

/** Records progress of a non-transactional file, so a crash leaves how far it got. */
export async function recordProgress(client: pg.Client, version: string, statementsDone: number): Promise<void> {
  await client.query(`UPDATE ${TABLE} SET statements_done = $2 WHERE version = $1`, [version, statementsDone]);
}

/** Marks a row applied with the file's current checksum (end of a non-transactional run, or `--accept`). */
export async function markApplied(client: pg.Client, source: MigrationSource, durationMs: number | null): Promise<void> {
  await client.query(
    `UPDATE ${TABLE} SET state = 'applied', name = $2, checksum = $3, transactional = $4, statements_total = $5, statements_done = $5,
       duration_ms = coalesce($6, duration_ms), applied_by = $7
     WHERE version = $1`,
    [source.version, source.name, source.checksum, source.transactional, source.up.length, durationMs, appliedBy()],
  );
}

/** Deletes a row (`migrate:down`, or accepting that a file is gone). */
export async function deleteHistory(client: pg.Client, version: string): Promise<void> {
  await client.query(`DELETE FROM ${TABLE} WHERE version = $1`, [version]);
}
