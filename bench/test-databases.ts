/**
 * `npm run bench:test-db`: what pgstrap/testing and db:reset cost here. On a scratch project (embedded engine,
 * the shipped migrations) it measures the median createTestDatabase() with STRATEGY WAL_LOG and FILE_COPY
 * (PostgreSQL 15+) on the development cluster and on the throwaway test cluster, the bare CREATE DATABASE on an
 * open connection (what a clone costs beyond the server's work), the same clone for a project of 100 migrations
 * against creating and migrating a fresh database on each cluster, and `pgstrap db:reset` of the shipped project
 * (the CLI, as a user runs it). Prints figures, ratios and the goals (clone at most 30 ms; at least 10x faster
 * than migrating; db:reset at most 1 s). Not a test.
 *
 *   node --import tsx bench/test-databases.ts [--runs N] [--major 17|18] [--port FIRST]
 *
 * --port: the first port to try for the scratch cluster (the test cluster takes the next free one above it).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../scripts/config/load.ts';
import { median } from '../scripts/bench/stats.ts';
import { makeScratchProject, npmRun, removeScratch } from '../scripts/bench/setup-figures.ts';
import { firstFreePort } from '../scripts/server/port.ts';
import { run } from '../scripts/server/process.ts';
import { selectTarget } from '../scripts/server/select.ts';
import { installRoot } from '../scripts/shared/install-root.ts';
import { runStepsPlain } from '../scripts/pipeline/run.ts';
import { databasesStep } from '../scripts/databases/step.ts';
import { extensionsStep } from '../scripts/extensions/step.ts';
import { uuidv7Step } from '../scripts/uuidv7/step.ts';
import { migrationsStep } from '../scripts/migrations/step.ts';
import pg from 'pg';
import { defaultCloneStrategy, templateConfig, CLONE_STRATEGIES, type CloneStrategy } from '../scripts/testing/template.ts';
import { startTestCluster, testClusterMemoryDir } from '../scripts/testing/cluster.ts';
import { connectionFor, maintenanceDatabase } from '../scripts/server/target.ts';
import { dropClone } from '../scripts/testing/databases.ts';
import { createTestDatabase, prepareTestTemplate } from '../scripts/testing/index.ts';
import type { Target } from '../scripts/server/target.ts';

const REPO_ROOT = installRoot();
const { values } = parseArgs({ options: { runs: { type: 'string' }, major: { type: 'string' }, port: { type: 'string' } } });
const RUNS = Number(values.runs ?? 15);
const MAJOR = Number(values.major ?? 17);
const FIRST_PORT = Number(values.port ?? 56_400);

const ms = (x: number) => `${x.toFixed(1)} ms`;

/** 100 migrations of the kind an app grows: a table with a uuidv7 key, a foreign key and an index each. */
function writeManyMigrations(dir: string, count = 100): void {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= count; i++) {
    const version = `20250101${String(i).padStart(6, '0')}`;
    const parent = i > 1 ? `,\n  parent_id uuid REFERENCES t${i - 1} (id)` : '';
    fs.writeFileSync(
      path.join(dir, `${version}_table_${i}.sql`),
      `CREATE TABLE t${i} (\n  id uuid PRIMARY KEY DEFAULT uuidv7(),\n  name text NOT NULL,\n  created_at timestamptz NOT NULL DEFAULT now()${parent}\n);\nCREATE INDEX t${i}_created_idx ON t${i} (created_at);\n`,
    );
  }
}

/** Times `fn` `runs` times (after one warm-up); returns the samples in ms. */
async function sample(runs: number, fn: () => Promise<void>): Promise<number[]> {
  await fn();
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await fn();
    samples.push(performance.now() - started);
  }
  return samples;
}

async function main(): Promise<void> {
  const source = await loadConfig({ cwd: REPO_ROOT });
  const port = await firstFreePort(FIRST_PORT);
  const dir = makeScratchProject({ ...source, postgresMajor: MAJOR, databases: [source.databases[0]!] }, port, { migrations: path.join(REPO_ROOT, 'examples', 'migrations') });
  writeManyMigrations(path.join(dir, 'migrations-100'));
  // `many`: the same cluster, a database with 100 migrations of its own.
  const configFile = path.join(dir, 'extensions.config.mjs');
  const text = fs.readFileSync(configFile, 'utf8').replace(/"databases": \[[^\]]*\]/, `"databases": ["app", { "name": "many", "migrations": { "directory": "migrations-100" } }]`);
  fs.writeFileSync(configFile, text);
  try {
    console.log(`scratch project ${dir} (embedded PostgreSQL ${MAJOR}), ${RUNS} runs each after a warm-up; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores`);
    await npmRun(dir, 'setup');
    const memory = testClusterMemoryDir() !== undefined;
    const clusters = [
      { id: 'dev', label: 'development cluster', testCluster: false },
      { id: 'test', label: `throwaway test cluster (fsync off${memory ? ', data in memory' : ', data on disk'})`, testCluster: true },
    ];
    // The drop is not part of a clone: time createTestDatabase alone, drop after.
    const timedClone = async (database: string, strategy: CloneStrategy, testCluster: boolean): Promise<number> => {
      const started = performance.now();
      const db = await createTestDatabase({ cwd: dir, database, strategy, testCluster });
      const elapsed = performance.now() - started;
      await db.drop();
      return elapsed;
    };
    const templates: Record<string, string> = {};
    for (const cluster of clusters) {
      for (const database of ['app', 'many']) {
        const started = performance.now();
        const { built, template } = await prepareTestTemplate({ cwd: dir, database, testCluster: cluster.testCluster });
        templates[`${cluster.id} ${database}`] = template;
        console.log(`${cluster.label}: template for ${database} ${built ? 'built' : 'found'} in ${ms(performance.now() - started)}`);
        await timedClone(database, 'WAL_LOG', cluster.testCluster);
      }
    }
    const config = await loadConfig({ cwd: dir });
    const devTarget = await selectTarget(config, { env: { ...process.env, PGSTRAP_URL: undefined } });
    if (devTarget.kind === 'external') throw new Error('the bench runs on the scratch project\'s own cluster');
    const targets: Record<string, Target> = { dev: devTarget, test: await startTestCluster(devTarget) };

    // Where a clone's time goes: the same CREATE DATABASE alone, one statement on a connection of its own.
    const raw: Record<string, pg.Client> = {};
    for (const cluster of clusters) {
      raw[cluster.id] = new pg.Client(connectionFor(targets[cluster.id]!, maintenanceDatabase(targets[cluster.id]!)));
      await raw[cluster.id]!.connect();
    }
    const timedStatement = async (cluster: string, database: string, strategy: CloneStrategy): Promise<number> => {
      const client = raw[cluster]!;
      const name = `bench_raw_${process.pid}`;
      const started = performance.now();
      await client.query(`CREATE DATABASE ${name} TEMPLATE "${templates[`${cluster} ${database}`]}" STRATEGY ${strategy}`);
      const elapsed = performance.now() - started;
      await client.query(`DROP DATABASE ${name}`);
      return elapsed;
    };

    const figures: Record<string, number[]> = {};
    const statements: Record<string, number[]> = {};
    const key = (cluster: string, database: string, strategy: string) => `${cluster} ${database} ${strategy}`;
    for (const database of ['app', 'many']) {
      for (const cluster of clusters) for (const strategy of CLONE_STRATEGIES) figures[key(cluster.id, database, strategy)] = [];
      // Interleaved, so a noisy moment hits every variant alike.
      for (let i = 0; i < RUNS; i++) {
        for (const cluster of clusters) {
          for (const strategy of CLONE_STRATEGIES) figures[key(cluster.id, database, strategy)]!.push(await timedClone(database, strategy, cluster.testCluster));
          if (database === 'app') {
            const strategy = defaultCloneStrategy(cluster.testCluster);
            (statements[key(cluster.id, database, strategy)] ??= []).push(await timedStatement(cluster.id, database, strategy));
          }
        }
      }
    }
    for (const client of Object.values(raw)) await client.end();

    // Without a template: create a database and migrate it, as setup does, for the 100-migration project, on each cluster.
    const many = config.databases.find((d) => d.name === 'many')!;
    let n = 0;
    const migrateFresh = (target: Target) => async (): Promise<void> => {
      const name = `bench_fresh_${process.pid}_${++n}`;
      const narrowed = templateConfig(target.config, many, name);
      const freshTarget = { ...target, config: narrowed.config, databases: [narrowed.database] } as Target;
      await runStepsPlain([databasesStep, extensionsStep, uuidv7Step, migrationsStep], { config: narrowed.config, target: freshTarget, reports: [] });
      await dropClone(target, name);
    };
    const fresh: Record<string, number[]> = {};
    for (const cluster of clusters) fresh[cluster.id] = await sample(Math.min(RUNS, 5), migrateFresh(targets[cluster.id]!));

    const cli = path.join(REPO_ROOT, 'scripts/pgstrap.mjs');
    const reset = await sample(Math.min(RUNS, 7), async () => {
      const result = await run(process.execPath, [cli, 'db:reset', '--database', 'app'], { cwd: dir, env: { CI: 'true', PGSTRAP_URL: undefined }, reject: false, timeoutMs: 120_000 });
      if (result.exitCode !== 0) throw new Error(`db:reset failed: ${result.stderr}`);
    });

    console.log('');
    console.log('| what | median | min | max |');
    console.log('|---|---|---|---|');
    const row = (label: string, s: number[]) => console.log(`| ${label} | ${ms(median(s))} | ${ms(Math.min(...s))} | ${ms(Math.max(...s))} |`);
    const labelOf = (id: string) => clusters.find((c) => c.id === id)!.label;
    for (const [label, s] of Object.entries(figures)) {
      const [cluster, database, strategy] = label.split(' ');
      row(`createTestDatabase, ${database === 'app' ? 'shipped migrations' : '100 migrations'}, ${strategy}, ${labelOf(cluster!)}`, s);
    }
    for (const [label, s] of Object.entries(statements)) {
      const [cluster, , strategy] = label.split(' ');
      row(`CREATE DATABASE ... TEMPLATE alone (one statement, open connection), shipped migrations, ${strategy}, ${labelOf(cluster!)}`, s);
    }
    for (const cluster of clusters) row(`create + migrate a fresh database, 100 migrations, ${cluster.label}`, fresh[cluster.id]!);
    row('pgstrap db:reset --database app (CLI, shipped project)', reset);
    console.log('');
    const best = (cluster: string, db: string) => CLONE_STRATEGIES.map((st) => ({ st, m: median(figures[key(cluster, db, st)]!) })).sort((a, b) => a.m - b.m)[0]!;
    for (const cluster of clusters) {
      const app = best(cluster.id, 'app');
      const hundred = best(cluster.id, 'many');
      const walOverFile = median(figures[key(cluster.id, 'app', 'WAL_LOG')]!) / median(figures[key(cluster.id, 'app', 'FILE_COPY')]!);
      const chosen = defaultCloneStrategy(cluster.testCluster);
      const overhead = median(figures[key(cluster.id, 'app', chosen)]!) - median(statements[key(cluster.id, 'app', chosen)]!);
      console.log(`${cluster.label}: faster strategy ${app.st} (shipped), ${hundred.st} (100 migrations); WAL_LOG/FILE_COPY = ${walOverFile.toFixed(2)} (shipped); createTestDatabase beyond its CREATE DATABASE: ${ms(overhead)} (${chosen})`);
      console.log(`  goal: median clone <= 30 ms: ${ms(app.m)} -> ${app.m <= 30 ? 'met' : 'missed'}`);
      const ratio = median(fresh[cluster.id]!) / hundred.m;
      console.log(`  goal: clone >= 10x faster than migrating a fresh database on the same cluster (100 migrations): ${ratio.toFixed(1)}x -> ${ratio >= 10 ? 'met' : 'missed'}`);
      if (cluster.id === 'test') {
        const cross = median(fresh.dev!) / hundred.m;
        console.log(`  against migrating on the development cluster (what a suite without a template does): ${cross.toFixed(1)}x`);
      }
    }
    console.log(`load average at the end: ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`goal: db:reset <= 1 s: ${ms(median(reset))} -> ${median(reset) <= 1000 ? 'met' : 'missed'}`);
    await run(process.execPath, [cli, 'db:prune-test', '--all'], { cwd: dir, env: { CI: 'true', PGSTRAP_URL: undefined }, reject: false, timeoutMs: 120_000 });
  } finally {
    await removeScratch(dir);
  }
}

await main();
