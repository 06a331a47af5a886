/** The migrations bench on a real server, cut small: every runner and the floor do the whole work on the same files. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { measureMigrations, renderMigrationBench } from '../../scripts/bench/migrations.ts';
import { query } from '../support/project.ts';
import { startMigrationCluster, type MigrationCluster } from '../migrations/support.ts';

let cluster: MigrationCluster;

beforeAll(async () => {
  cluster = await startMigrationCluster();
});
afterAll(async () => cluster?.project.remove());

it('times pgstrap, node-pg-migrate and the floor (two of its query strings for 60 files), then drops its databases', async () => {
  // measureMigrations throws unless each runner's database ends with the 60 tables.
  const report = await measureMigrations(cluster.target, { files: 60, runs: 1, statusRuns: 1 });
  expect(Object.values(report.apply.median).every((ms) => ms > 0)).toBe(true);
  expect(report.apply.serverFloor).toHaveLength(1);
  expect(renderMigrationBench(report)).toMatch(/\n {2}floor: the same SQL, 50 files a query, no runner +\d+\.\d\d s {2}min .*\) {2}pgstrap [\d.]+x its time\n/);
  expect(await query(cluster.target, 'postgres', "SELECT datname FROM pg_database WHERE datname LIKE 'pgstrap\\_bench\\_%'")).toEqual([]);
});
