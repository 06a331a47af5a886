/** The server dies with kill -9 in the middle of a migration; after a restart a re-run completes. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PgstrapError } from '../../scripts/shared/errors.ts';
import type { ResolvedDatabase } from '../../scripts/config/types.ts';
import { getMigrationStatus, migrateDatabase } from '../../scripts/migrations/runner.ts';
import { startStep } from '../../scripts/cluster/step.ts';
import { killPostmaster, query, runStepsQuietly } from '../support/project.ts';
import { startMigrationCluster, type MigrationCluster } from './support.ts';

let cluster: MigrationCluster;

beforeAll(async () => {
  cluster = await startMigrationCluster();
});
afterAll(async () => cluster?.project.remove());

/** Sleeps 60 s until the test creates table `fast`, so the re-run after the crash is quick. */
const LONG = "SELECT pg_sleep(CASE WHEN to_regclass('fast') IS NULL THEN 60 ELSE 0 END);";

/** Starts a migration, waits until the server runs pg_sleep, kills the postmaster with SIGKILL, returns the run's error. */
async function killDuring(db: ResolvedDatabase): Promise<PgstrapError> {
  const run = migrateDatabase(cluster.target, db).then(
    () => undefined,
    (error: unknown) => error,
  );
  for (let i = 0; i < 200; i++) {
    const sleeping = await query(cluster.target, db.name, `SELECT 1 FROM pg_stat_activity WHERE query LIKE 'SELECT pg_sleep%' AND state = 'active'`);
    if (sleeping.length > 0) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  await killPostmaster(cluster.target);
  const error = await run;
  expect(error).toBeInstanceOf(PgstrapError);
  // The stale postmaster.pid is recovered by the start step, as `npm run db:start` does.
  await runStepsQuietly([startStep], cluster.project.config, cluster.target);
  await query(cluster.target, db.name, 'CREATE TABLE fast ()');
  return error as PgstrapError;
}

describe('kill -9 during a migration', () => {
  it('leaves no trace of a transactional file; a re-run applies it and the rest', async () => {
    const db = await cluster.database('crash_tx', {
      '1_first.sql': 'CREATE TABLE first (id int);\n',
      '2_long.sql': `CREATE TABLE second (id int);\n${LONG}\n`,
      '3_last.sql': 'CREATE TABLE last (id int);\n',
    });
    const error = await killDuring(db);
    expect(error.message).toMatch(/^crash_tx\/2_long\.sql:2:1: the connection to the server was lost/);
    // Its last statement: the answer that would have said it ran comes with the COMMIT's (apply.ts).
    expect(error.details).toContain('the server rolls its transaction back, unless the connection was lost as the file committed: `npm run migrate:status` shows whether it is applied');
    expect(error.remedy).toMatch(/^Once the server answers again, run `npm run migrate` again; fix crash_tx\/2_long\.sql first only if/);
    // Nothing of the file that was running; the file before it committed without a flush (see runner.ts), so
    // the crash may have taken it too, but only together with its tracking row.
    const [state] = await query(cluster.target, 'crash_tx', `SELECT to_regclass('first') IS NOT NULL AS first, to_regclass('second') IS NOT NULL AS second,
      (SELECT count(*)::int FROM pgstrap_migrations.history WHERE version = '1') AS recorded`);
    expect(state).toMatchObject({ second: false, recorded: state!.first ? 1 : 0 });
    const pending = (await getMigrationStatus(cluster.target, [db]))[0]!.pending.map((p) => p.version);
    expect(pending).toEqual(state!.first ? ['2', '3'] : ['1', '2', '3']);
    expect((await migrateDatabase(cluster.target, db)).changes).toHaveLength(pending.length);
    expect((await getMigrationStatus(cluster.target, [db]))[0]).toMatchObject({ pending: [], drifted: [] });
  });

  it('names the statement that ran when the connection was lost in the middle of a file', async () => {
    const db = await cluster.database('crash_mid', {
      '1_mid.sql': `CREATE TABLE one (id int);\n${LONG}\nCREATE TABLE two (id int);\n`,
    });
    const error = await killDuring(db);
    expect(error.message).toMatch(/^crash_mid\/1_mid\.sql:2:1: the connection to the server was lost/);
    expect(error.details).toContain('nothing of this file was applied: the server rolls its transaction back');
    expect(error.details).toContain('statement 2 of 3 in database crash_mid');
    expect(await query(cluster.target, 'crash_mid', `SELECT to_regclass('one')::text AS one`)).toEqual([{ one: null }]);
  });

  it('marks a no-transaction file that died half way; --retry finishes it', async () => {
    const db = await cluster.database('crash_notx', {
      '1_long.sql': `-- pgstrap:no-transaction\nCREATE TABLE a (id int);\n${LONG}\nCREATE INDEX CONCURRENTLY a_id ON a (id);\n`,
    });
    await killDuring(db);
    const [status] = await getMigrationStatus(cluster.target, [db]);
    expect(status!.drifted).toEqual([{ kind: 'half-applied', version: '1', name: 'long', statementsDone: 1, statementsTotal: 3, inProgress: false }]);
    await expect(migrateDatabase(cluster.target, db)).rejects.toMatchObject({ code: 'migrate.drift' });
    expect((await migrateDatabase(cluster.target, db, { retry: ['1'] })).changes).toHaveLength(1);
    expect(await query(cluster.target, 'crash_notx', `SELECT indisvalid FROM pg_index WHERE indexrelid = 'a_id'::regclass`)).toEqual([{ indisvalid: true }]);
  });
});
