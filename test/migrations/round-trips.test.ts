/**
 * How many round trips the runner makes, counted by the bench's delaying proxy (with no delay) in front
 * of a real PostgreSQL 17, and what a batch of files does when one of them fails at COMMIT.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedDatabase } from '../../scripts/config/types.ts';
import { readPassword, type ExternalTarget } from '../../scripts/server/target.ts';
import { migrateDatabase } from '../../scripts/migrations/runner.ts';
import { startDelayProxy, type DelayProxy } from '../../bench/delay-proxy.ts';
import { migrationsStep } from '../../scripts/migrations/step.ts';
import { uuidv7Step } from '../../scripts/uuidv7/step.ts';
import { verifyStep } from '../../scripts/uuidv7/verify-step.ts';
import { query, runStepsQuietly } from '../support/project.ts';
import { startMigrationCluster, type MigrationCluster } from './support.ts';

let cluster: MigrationCluster;
let proxy: DelayProxy;

beforeAll(async () => {
  cluster = await startMigrationCluster();
  proxy = await startDelayProxy({ host: '127.0.0.1', port: cluster.project.config.port, oneWayMs: 0 });
});
afterAll(async () => {
  await proxy?.close();
  await cluster?.project.remove();
});

/** The cluster reached by URL through the proxy, managing `db` only. */
function throughProxy(db: ResolvedDatabase): ExternalTarget {
  const password = encodeURIComponent(readPassword(cluster.target.layout) ?? '');
  const url = new URL(`postgresql://${cluster.project.config.superuser}:${password}@127.0.0.1:${proxy.port}/`);
  return { kind: 'external', url, config: cluster.project.config, databases: [db], mayCreateDatabases: false, choice: 'test' };
}

/** Three statements, as the bench's files have. */
const threeStatements = (i: number) => `CREATE TABLE t_${i} (id int PRIMARY KEY, note text);\nINSERT INTO t_${i} VALUES (1, 'x');\nCREATE INDEX ON t_${i} (note);\n`;

describe('round trips', () => {
  it('applies 20 files in one batch, and a run with nothing to do takes one round trip after connecting', async () => {
    const files = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`${i + 1}_t.sql`, threeStatements(i + 1)]));
    const db = await cluster.database('rtt_batch', files);
    const target = throughProxy(db);
    proxy.reset();
    expect((await migrateDatabase(target, db)).changes).toHaveLength(20);
    const first = proxy.counts();
    proxy.reset();
    expect((await migrateDatabase(target, db)).changes).toEqual([]);
    const second = proxy.counts();
    // Connecting: the TCP handshake and three exchanges (startup, two SCRAM steps); closing: one message.
    // The first run adds: a first look (which takes the lock and finds no tracking table), the tracking
    // table, the batch of 20 files, the release; the second only the first look.
    expect(first).toEqual({ connections: 1, roundTrips: 9 });
    expect(second).toEqual({ connections: 1, roundTrips: 6 });
  });

  it('stops a batch at a file whose COMMIT fails: the files before it stay applied, none after it starts', async () => {
    const db = await cluster.database('rtt_commit', {
      '1_first.sql': 'CREATE TABLE first (id int);\n',
      '2_deferred.sql':
        'CREATE TABLE parent (id int PRIMARY KEY);\n' +
        'CREATE TABLE child (parent int REFERENCES parent DEFERRABLE INITIALLY DEFERRED);\n' +
        'INSERT INTO child VALUES (1);\n',
      '3_after.sql': 'CREATE TABLE after (id int);\n',
    });
    await expect(migrateDatabase(throughProxy(db), db)).rejects.toMatchObject({ code: '23503' });
    expect(await query(cluster.target, 'rtt_commit', `SELECT to_regclass('first')::text AS a, to_regclass('parent')::text AS b, to_regclass('after')::text AS c`)).toEqual([
      { a: 'first', b: null, c: null },
    ]);
    expect(await query(cluster.target, 'rtt_commit', 'SELECT version FROM pgstrap_migrations.history')).toEqual([{ version: '1' }]);
  });

  it('shares one connection per database across the steps of a run', async () => {
    const db = await cluster.database('rtt_steps', { '1_t.sql': threeStatements(1) });
    await query(cluster.target, 'rtt_steps', 'DROP FUNCTION uuidv7()');
    proxy.reset();
    const reports = await runStepsQuietly([uuidv7Step, migrationsStep, verifyStep], cluster.project.config, throughProxy(db));
    expect(reports.map((r) => r.status)).toEqual(['changed', 'changed', 'unchanged']);
    expect(proxy.counts().connections).toBe(1);
  });
});
