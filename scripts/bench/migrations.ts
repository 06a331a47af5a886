/**
 * Migration speed, side by side on one server: 1,000 small SQL files applied to an empty database by
 * pgstrap's runner and by node-pg-migrate (each file in its own transaction, and its CLI's default of one
 * transaction for the batch), then `migrate:status` on the 1,000 applied files. Goals: apply at least 2x
 * as fast as node-pg-migrate's transaction per file and no slower than its single transaction (pgstrap
 * keeping a transaction and a tracking row per file); status under 300 ms. Beside them, the floor: the same
 * SQL sent by no runner, 50 files to a query string, which is what the server itself takes for the work (on
 * ext4, a run soon after many files were deleted is slower for every runner alike: docs/migrations.md).
 *
 * `npm run bench:migrations [-- --runs N --files N --json --port N]` runs it on a throwaway embedded cluster
 * (its port the first free one from N, default 5600);
 * `measureMigrations` runs it on any target.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { importModule } from '../bundle.mjs';
import { resolveConfig } from '../config/validate.ts';
import type { ResolvedDatabase } from '../config/types.ts';
import { quoteIdent } from '../shared/identifiers.ts';
import { median, pairedRatio } from './stats.ts';
import { withClient } from '../server/connection.ts';
import { firstFreePort } from '../server/port.ts';
import { selectTarget } from '../server/select.ts';
import { connectionFor, describeEngine, maintenanceDatabase, type Target } from '../server/target.ts';
import { getMigrationStatus, migrateDatabase } from '../migrations/runner.ts';
import { initialiseStep, settingsStep, startStep } from '../cluster/step.ts';
import { runStepsPlain } from '../pipeline/run.ts';
import { installRoot } from '../shared/install-root.ts';

/** How much to measure. */
export interface MigrationBenchOptions {
  /** Migration files. Default 1,000. */
  files?: number;
  /** Fresh-database apply runs per runner (the median counts). Default 3. */
  runs?: number;
  /** Status calls on the applied files (the median counts). Default 10. */
  statusRuns?: number;
  log?: (line: string) => void;
}

/** The figures, in milliseconds. */
export interface MigrationBenchReport {
  engine: string;
  files: number;
  apply: {
    pgstrap: number[];
    nodePgMigrate: number[];
    nodePgMigrateSingleTransaction: number[];
    /**
     * The floor: the same files and tracking rows sent by no runner, as one query string per 50 files, each
     * file in its own transaction committed without waiting for the disk (as pgstrap's are). What the server
     * itself takes for the work; a slow filesystem raises it for every runner alike.
     */
    serverFloor: number[];
    /** Medians. */
    median: { pgstrap: number; nodePgMigrate: number; nodePgMigrateSingleTransaction: number; serverFloor: number };
    /** Fastest runs: on a busy machine the least disturbed figure. */
    min: { pgstrap: number; nodePgMigrate: number; nodePgMigrateSingleTransaction: number; serverFloor: number };
    /**
     * node-pg-migrate's time over pgstrap's, the median of the rounds' ratios (each round runs all three, see
     * stats.ts pairedRatio): above 1 means pgstrap is faster.
     */
    speedup: number;
    speedupSingleTransaction: number;
    /** pgstrap's time over the floor's, paired by round: 1 would be the server's own time. */
    overFloor: number;
  };
  status: { runs: number[]; first: number; median: number };
  goals: { applyAtLeastAsFast: boolean; twiceAsFastAsPerFile: boolean; noSlowerThanSingleTransaction: boolean; statusUnder300ms: boolean };
}

/** A small migration, as teams write them: a table with a key and a row. */
function migrationText(i: number): string {
  return `CREATE TABLE bench_${i} (id bigint PRIMARY KEY, note text NOT NULL);\nINSERT INTO bench_${i} VALUES (1, 'file ${i}');\n`;
}

/** The floor's SQL for files `from`..`to` (1-based, inclusive): what a runner with no overhead would send. */
function floorBatchSql(from: number, to: number): string {
  const parts = ['SET synchronous_commit TO off;'];
  for (let i = from; i <= to; i++) {
    parts.push(`BEGIN;\n${migrationText(i)}INSERT INTO bench_floor_history VALUES ('${i}', clock_timestamp());\nCOMMIT;`);
  }
  parts.push('RESET synchronous_commit;');
  return parts.join('\n');
}

/** Applies `files` of migrationText through floorBatchSql, 50 to a query, on a connection of its own. */
async function applyFloor(target: Target, database: string, files: number): Promise<void> {
  await withClient(connectionFor(target, database), async (client) => {
    await client.query('CREATE TABLE bench_floor_history (version text PRIMARY KEY, applied_at timestamptz NOT NULL)');
    for (let i = 1; i <= files; i += 50) await client.query(floorBatchSql(i, Math.min(files, i + 49)));
  });
}

/** Throws unless `database` has the table and row of each of `files` files: every runner did the whole work. */
async function expectEveryFile(target: Target, database: string, files: number, runner: string): Promise<void> {
  const found = await withClient(connectionFor(target, database), async (client) => {
    const tables = await client.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_class WHERE relkind = 'r' AND relname ~ '^bench_[0-9]+$'");
    return tables.rows[0]!.n;
  });
  if (found !== files) throw new Error(`the migrations bench expected ${files} tables from ${runner}, found ${found}`);
}

/** Writes `count` files named `00001_bench_1.sql`... which both runners order the same way. */
function writeFiles(dir: string, count: number): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) fs.writeFileSync(path.join(dir, `${String(i).padStart(5, '0')}_bench_${i}.sql`), migrationText(i));
}

async function timedMs(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return Math.round((performance.now() - started) * 10) / 10;
}

/** Runs the benchmark on `target` in scratch databases it drops afterwards. */
export async function measureMigrations(target: Target, options: MigrationBenchOptions = {}): Promise<MigrationBenchReport> {
  const files = options.files ?? 1000;
  const runs = options.runs ?? 3;
  const statusRuns = options.statusRuns ?? 10;
  const log = options.log ?? (() => {});
  // node-pg-migrate is an ES module outside the CLI's (CommonJS) bundle, and a devDependency an app may not
  // have: imported first, so that where it is missing nothing has been made yet.
  const { runner: nodePgMigrate } = (await importModule('node-pg-migrate')) as unknown as typeof import('node-pg-migrate');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bench-migrations-'));
  writeFiles(dir, files);
  const admin = connectionFor(target, maintenanceDatabase(target));
  const created: string[] = [];
  const freshDatabase = async (label: string): Promise<string> => {
    const name = `pgstrap_bench_${process.pid}_${label}`;
    await withClient(admin, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
      await c.query(`CREATE DATABASE ${quoteIdent(name)}`);
    });
    created.push(name);
    return name;
  };
  const apply = { pgstrap: [] as number[], nodePgMigrate: [] as number[], nodePgMigrateSingleTransaction: [] as number[], serverFloor: [] as number[] };
  let statusDb: ResolvedDatabase | undefined;
  try {
    for (let run = 1; run <= runs; run++) {
      const runners: Array<[keyof typeof apply, (db: string) => Promise<unknown>]> = [
        ['pgstrap', (db) => migrateDatabase(target, { name: db, migrations: { directory: dir, builtIn: true, command: undefined } })],
        ['nodePgMigrate', (db) => nodePgMigrate({ databaseUrl: connectionFor(target, db), dir, direction: 'up', migrationsTable: 'pgmigrations', count: Infinity, log: () => {} })],
        ['nodePgMigrateSingleTransaction', (db) => nodePgMigrate({ databaseUrl: connectionFor(target, db), dir, direction: 'up', migrationsTable: 'pgmigrations', count: Infinity, singleTransaction: true, log: () => {} })],
        ['serverFloor', (db) => applyFloor(target, db, files)],
      ];
      // Rotate the order so no runner always gets the warmest cache.
      for (let k = 0; k < runners.length; k++) {
        const [label, applyAll] = runners[(k + run - 1) % runners.length]!;
        const db = await freshDatabase(`${label.toLowerCase()}_${run}`);
        log(`run ${run}/${runs}: ${label} applies ${files} files`);
        apply[label].push(await timedMs(() => applyAll(db)));
        await expectEveryFile(target, db, files, label);
        if (label === 'pgstrap' && run === runs) statusDb = { name: db, migrations: { directory: dir, builtIn: true, command: undefined } };
      }
    }
    log(`migrate:status on ${files} applied files, ${statusRuns} times`);
    const status: number[] = [];
    for (let i = 0; i < statusRuns; i++) {
      let upToDate = false;
      status.push(await timedMs(async () => {
        const [s] = await getMigrationStatus(target, [statusDb!]);
        upToDate = s!.applied.length === files && s!.pending.length === 0 && s!.drifted.length === 0;
      }));
      if (!upToDate) throw new Error('the status bench expected every file applied');
    }
    const med = {
      pgstrap: median(apply.pgstrap),
      nodePgMigrate: median(apply.nodePgMigrate),
      nodePgMigrateSingleTransaction: median(apply.nodePgMigrateSingleTransaction),
      serverFloor: median(apply.serverFloor),
    };
    const speedup = pairedRatio(apply.nodePgMigrate, apply.pgstrap);
    const speedupSingleTransaction = pairedRatio(apply.nodePgMigrateSingleTransaction, apply.pgstrap);
    const overFloor = pairedRatio(apply.pgstrap, apply.serverFloor);
    const statusMedian = median(status);
    return {
      engine: describeEngine(target),
      files,
      apply: {
        ...apply,
        median: med,
        min: {
          pgstrap: Math.min(...apply.pgstrap),
          nodePgMigrate: Math.min(...apply.nodePgMigrate),
          nodePgMigrateSingleTransaction: Math.min(...apply.nodePgMigrateSingleTransaction),
          serverFloor: Math.min(...apply.serverFloor),
        },
        speedup: Math.round(speedup * 100) / 100,
        speedupSingleTransaction: Math.round(speedupSingleTransaction * 100) / 100,
        overFloor: Math.round(overFloor * 100) / 100,
      },
      status: { runs: status, first: status[0]!, median: statusMedian },
      goals: {
        applyAtLeastAsFast: speedup >= 1,
        twiceAsFastAsPerFile: speedup >= 2,
        noSlowerThanSingleTransaction: speedupSingleTransaction >= 1,
        statusUnder300ms: statusMedian < 300,
      },
    };
  } finally {
    await withClient(admin, async (c) => {
      for (const name of created) await c.query(`DROP DATABASE IF EXISTS ${quoteIdent(name)}`);
    }).catch(() => {});
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** The report as lines of text. */
export function renderMigrationBench(report: MigrationBenchReport): string {
  const { apply, status } = report;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const row = (label: string, key: keyof typeof apply.median, ratio?: number) =>
    `  ${label.padEnd(55)}${s(apply.median[key]).padStart(8)}  min ${s(apply.min[key])}  (${apply[key].map(s).join(', ')})${ratio === undefined ? '' : `  ${ratio}x pgstrap's (paired by round)`}`;
  return [
    `${report.files} migration files applied to an empty database on ${report.engine}, median of ${apply.pgstrap.length} runs each:`,
    row('pgstrap migrate (a transaction per file)', 'pgstrap'),
    row('node-pg-migrate (a transaction per file)', 'nodePgMigrate', apply.speedup),
    row('node-pg-migrate --single-transaction (its CLI default)', 'nodePgMigrateSingleTransaction', apply.speedupSingleTransaction),
    `${row('floor: the same SQL, 50 files a query, no runner', 'serverFloor')}  pgstrap ${apply.overFloor}x its time`,
    `  migrate:status on ${report.files} applied files: median ${status.median} ms, first ${status.first} ms (in-process, connection included)`,
    `goals: at least 2x faster than node-pg-migrate per file (ratio ${apply.speedup}): ${report.goals.twiceAsFastAsPerFile ? 'met' : 'NOT met'}; ` +
      `no slower than its single transaction (ratio ${apply.speedupSingleTransaction}): ${report.goals.noSlowerThanSingleTransaction ? 'met' : 'NOT met'}; ` +
      `status under 300 ms: ${report.goals.statusUnder300ms ? 'met' : 'NOT met'}`,
  ].join('\n');
}

/** Runs the benchmark on a throwaway embedded cluster and removes it. */
async function main(): Promise<void> {
  const portIndex = process.argv.indexOf('--port');
  const portFlag = portIndex === -1 ? undefined : Number(process.argv[portIndex + 1]);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bench-cluster-'));
  // 0755: the server user must reach the state folder inside it when we run as root.
  fs.chmodSync(dir, 0o755);
  fs.symlinkSync(path.join(installRoot(), 'node_modules'), path.join(dir, 'node_modules'));
  const config = resolveConfig({ engine: 'embedded', port: await firstFreePort(portFlag ?? 5600), databases: ['bench'] }, { file: undefined, projectDir: dir });
  const target = await selectTarget(config, { env: { ...process.env, PGSTRAP_URL: undefined } });
  if (target.kind === 'external') throw new Error('expected the embedded engine');
  try {
    await runStepsPlain([initialiseStep, settingsStep, startStep], { config, target, reports: [] });
    const log = (line: string) => process.stderr.write(`${line}\n`);
    const flag = (name: string) => {
      const i = process.argv.indexOf(name);
      return i === -1 ? undefined : Number(process.argv[i + 1]);
    };
    const report = await measureMigrations(target, { log, files: flag('--files'), runs: flag('--runs') });
    if (process.argv.includes('--json')) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else process.stdout.write(`${renderMigrationBench(report)}\n`);
  } finally {
    await target.cluster.stop().catch(() => {});
    if (target.layout.relocated) fs.rmSync(target.layout.runtimeDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
