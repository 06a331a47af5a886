/**
 * What a distant server costs: setup, migrate, verify and doctor by URL through a delaying proxy
 * (bench/delay-proxy.ts, 20 ms a round trip by default) in front of a throwaway embedded cluster with two
 * databases and the example migrations, each timed as a CLI run (Node start included) with its round trips
 * counted; 100 pending migration files of three statements each, the same way. Locally, on the same
 * machine in the same run: cold setup against scripts/bench/floor.sh, and 1,000 migration files against
 * node-pg-migrate (scripts/bench/migrations.ts). Each goal is printed with its ratio and verdict.
 *
 *   npm run bench:round-trips [-- --runs N --rtt MS --baseline DIR --skip-local --json --port N]
 *
 * `--baseline DIR` times another checkout's CLI (e.g. the main branch) in the same rounds, interleaved. `--port N`
 * (default 5700) is where its free-port searches start: its clusters take ports from N to about N+600.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../scripts/config/load.ts';
import { median } from '../scripts/bench/stats.ts';
import { quoteIdent } from '../scripts/shared/identifiers.ts';
import { withClient } from '../scripts/server/connection.ts';
import { firstFreePort } from '../scripts/server/port.ts';
import { selectTarget } from '../scripts/server/select.ts';
import { connectionFor, readPassword, type ManagedTarget } from '../scripts/server/target.ts';
import { installRoot } from '../scripts/shared/install-root.ts';
import { startDelayProxy, type DelayProxy } from './delay-proxy.ts';
import { measureMigrations } from '../scripts/bench/migrations.ts';
import { makeScratchProject, measureSetup } from '../scripts/bench/setup-figures.ts';

const REPO_ROOT = installRoot();

/** One goal: a measured value against its limit, and whether it was met. */
export interface Goal {
  where: 'local' | 'proxy';
  what: string;
  value: string;
  /** value over limit for "at most" goals, limit over value for "at least as fast" ones: met when <= 1. */
  ratio: number;
  met: boolean;
  limit: string;
}

/** One CLI command through the proxy: seconds and round trips per run. */
interface ProxiedFigure {
  label: string;
  cli: string;
  seconds: number[];
  roundTrips: number[];
  connections: number[];
}

/** A small migration of three statements, as teams write them. */
function threeStatementMigration(i: number): string {
  return [
    `CREATE TABLE many_${i} (id bigint PRIMARY KEY, note text NOT NULL);`,
    `INSERT INTO many_${i} VALUES (1, 'file ${i}');`,
    `CREATE INDEX many_${i}_note ON many_${i} (note);`,
    '',
  ].join('\n');
}

/** A scratch project: the repository's database list and extensions, the example migrations, and a second config for 100 files. */
async function makeProject(port: number): Promise<string> {
  const source = await loadConfig({ cwd: REPO_ROOT });
  const dir = makeScratchProject(source, port, { migrations: path.join(REPO_ROOT, 'examples', 'migrations') });
  const many = path.join(dir, 'many');
  fs.mkdirSync(many);
  for (let i = 1; i <= 100; i++) fs.writeFileSync(path.join(many, `${String(i).padStart(5, '0')}_many_${i}.sql`), threeStatementMigration(i));
  const manyConfig = { engine: 'embedded', postgresMajor: source.postgresMajor, port, databases: [{ name: 'many', migrations: { directory: 'many' } }], extensions: [] };
  fs.writeFileSync(path.join(dir, 'many.config.mjs'), `export default ${JSON.stringify(manyConfig, null, 2)};\n`);
  return dir;
}

/** Runs a CLI command in `cwd`; resolves to seconds, rejects with its output on a non-zero exit. */
function timedCli(cli: string, args: string[], cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
    delete env.PGSTRAP_URL;
    const child = spawn(process.execPath, [cli, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code === 0) resolve(seconds);
      else reject(new Error(`${path.basename(cli)} ${args.join(' ')} exited ${code}:\n${output.trim().split('\n').slice(-15).join('\n')}`));
    });
  });
}

const s = (x: number) => `${x.toFixed(x < 10 ? 3 : 1)} s`;

/** Runs the bench; returns the goals and the proxied figures. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string' }, rtt: { type: 'string' }, baseline: { type: 'string' }, 'skip-local': { type: 'boolean' }, json: { type: 'boolean' },
      'cold-runs': { type: 'string' }, 'migration-runs': { type: 'string' }, port: { type: 'string' },
    },
  });
  const runs = Number(values.runs ?? 5);
  const rtt = Number(values.rtt ?? 20);
  const portBase = Number(values.port ?? 5700);
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const clis: Array<[string, string]> = [['pgstrap', path.join(REPO_ROOT, 'scripts/pgstrap.mjs')]];
  if (values.baseline) clis.push(['baseline', path.join(path.resolve(values.baseline), 'scripts/pgstrap.mjs')]);

  // The 1,000 files first, before the other parts remove clusters and databases: on ext4 a burst of deleted
  // files slows the creation of the next ones for a minute or so (docs/migrations.md), which lengthens every
  // runner's time by the server's and shrinks their ratios. Their goals print last.
  const migrationGoals: Goal[] = [];
  if (!values['skip-local']) {
    const clusterDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bench-rtt-local-'));
    fs.chmodSync(clusterDir, 0o755);
    fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(clusterDir, 'node_modules'));
    fs.writeFileSync(path.join(clusterDir, 'extensions.config.mjs'), `export default ${JSON.stringify({ engine: 'embedded', port: await firstFreePort(portBase + 200), databases: ['bench'] })};\n`);
    const local = (await selectTarget(await loadConfig({ cwd: clusterDir }), { env: { ...process.env, PGSTRAP_URL: undefined } })) as ManagedTarget;
    try {
      await timedCli(clis[0]![1], ['start'], clusterDir);
      const report = await measureMigrations(local, { log, runs: Number(values['migration-runs'] ?? 3) });
      const { median: med } = report.apply;
      migrationGoals.push({
        where: 'local', what: `1,000 migration files against node-pg-migrate, a transaction per file (${s(med.nodePgMigrate / 1000)}; the server's floor ${s(med.serverFloor / 1000)}, pgstrap ${report.apply.overFloor}x it)`, value: s(med.pgstrap / 1000),
        ratio: 2 / report.apply.speedup, met: report.apply.speedup >= 2, limit: `at least 2x faster (is ${report.apply.speedup.toFixed(2)}x, paired by round)`,
      });
      migrationGoals.push({
        where: 'local', what: `1,000 migration files against node-pg-migrate, one transaction (${s(med.nodePgMigrateSingleTransaction / 1000)})`, value: s(med.pgstrap / 1000),
        ratio: 1 / report.apply.speedupSingleTransaction, met: report.apply.speedupSingleTransaction >= 1, limit: `no slower (is ${report.apply.speedupSingleTransaction.toFixed(2)}x, paired by round)`,
      });
    } finally {
      await local.cluster.stop().catch(() => {});
      if (local.layout.relocated) fs.rmSync(local.layout.runtimeDir, { recursive: true, force: true });
      fs.rmSync(clusterDir, { recursive: true, force: true });
    }
  }

  const dir = await makeProject(await firstFreePort(portBase));
  const config = await loadConfig({ cwd: dir });
  const target = (await selectTarget(config, { env: { ...process.env, PGSTRAP_URL: undefined } })) as ManagedTarget;
  let proxy: DelayProxy | undefined;
  const goals: Goal[] = [];
  const figures: ProxiedFigure[] = [];
  try {
    log('cold setup of the scratch project (local)');
    await timedCli(clis[0]![1], ['setup'], dir);
    for (const [, cli] of clis.slice(1)) await timedCli(cli, ['setup'], dir); // builds its bundle
    proxy = await startDelayProxy({ host: '127.0.0.1', port: target.cluster.status().port ?? config.port, oneWayMs: rtt / 2 });
    const url = `postgresql://${config.superuser}:${encodeURIComponent(readPassword(target.layout) ?? '')}@127.0.0.1:${proxy.port}/`;
    const admin = connectionFor(target, 'postgres');
    const resetMany = () => withClient(admin, async (c) => {
      await c.query(`DROP DATABASE IF EXISTS ${quoteIdent('many')}`);
      await c.query(`CREATE DATABASE ${quoteIdent('many')}`);
    });
    const commands: Array<{ label: string; args: string[]; before?: () => Promise<unknown> }> = [
      { label: 'warm setup by URL', args: ['setup', '--url', url] },
      { label: 'doctor by URL', args: ['doctor', '--url', url] },
      { label: 'verify by URL', args: ['verify', '--url', url] },
      { label: 'migrate by URL, nothing pending', args: ['migrate', '--url', url] },
      { label: '100 pending migration files by URL', args: ['migrate', '--url', url, '--config', path.join(dir, 'many.config.mjs')], before: resetMany },
    ];
    for (const command of commands) for (const [label] of clis) figures.push({ label: command.label, cli: label, seconds: [], roundTrips: [], connections: [] });
    for (let round = 1; round <= runs; round++) {
      for (const command of commands) {
        // Alternate which CLI goes first, so neither always meets the warmer cache.
        const order = round % 2 === 1 ? clis : [...clis].reverse();
        for (const [label, cli] of order) {
          await command.before?.();
          proxy.reset();
          const seconds = await timedCli(cli, command.args, dir);
          const counts = proxy.counts();
          const figure = figures.find((f) => f.label === command.label && f.cli === label)!;
          figure.seconds.push(seconds);
          figure.roundTrips.push(counts.roundTrips);
          figure.connections.push(counts.connections);
          log(`round ${round}/${runs} ${label}: ${command.label} ${s(seconds)}, ${counts.roundTrips} round trips, ${counts.connections} connections`);
        }
      }
    }
    const proxied = (label: string) => figures.find((f) => f.label === label && f.cli === 'pgstrap')!;
    for (const [label, limit] of [['warm setup by URL', 1], ['100 pending migration files by URL', 3], ['doctor by URL', 1]] as const) {
      const m = median(proxied(label).seconds);
      goals.push({ where: 'proxy', what: `${label} (${rtt} ms round trip)`, value: s(m), ratio: m / limit, met: m <= limit, limit: `at most ${limit} s` });
    }
  } finally {
    await proxy?.close();
    await target.cluster.stop().catch(() => {});
    if (target.layout.relocated) fs.rmSync(target.layout.runtimeDir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }

  if (!values['skip-local']) {
    const source = await loadConfig({ cwd: REPO_ROOT });
    const coldRuns = Number(values['cold-runs'] ?? 5);
    const setup = await measureSetup({ ...source, port: await firstFreePort(portBase + 100) }, { coldRuns, warmRuns: 1, log, migrations: path.join(REPO_ROOT, 'examples', 'migrations') });
    goals.push({
      where: 'local', what: `cold setup with migrations and verify, against scripts/bench/floor.sh (${s(setup.floor.median)})`, value: s(setup.coldSetup.median),
      ratio: setup.coldRatio / 1.3, met: setup.coldRatio <= 1.3, limit: `at most 1.3x the floor (is ${setup.coldRatio.toFixed(2)}x, paired by round)`,
    });
    const stopped = setup.withStop!;
    goals.push({
      where: 'local', what: `the same with the stop after each (pgstrap stop; pg_ctl stop -m fast for the floor, both run directly, ${s(stopped.floor.median)})`, value: s(stopped.coldSetup.median),
      ratio: stopped.ratio / 1.3, met: stopped.ratio <= 1.3, limit: `at most 1.3x the floor (is ${stopped.ratio.toFixed(2)}x, paired by round)`,
    });
    goals.push(...migrationGoals);
  }

  if (values.json) {
    process.stdout.write(`${JSON.stringify({ rttMs: rtt, runs, figures, goals }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`Through a ${rtt} ms round-trip proxy (median of ${runs} interleaved runs; round trips per run, TCP handshakes included):\n`);
  for (const f of figures) {
    process.stdout.write(`  ${`${f.label}${clis.length > 1 ? ` [${f.cli}]` : ''}`.padEnd(50)}${s(median(f.seconds)).padStart(9)}  ${String(median(f.roundTrips)).padStart(5)} round trips  ${median(f.connections)} connections\n`);
  }
  process.stdout.write('\nGoals:\n');
  for (const g of goals) {
    process.stdout.write(`  [${g.where}] ${g.what}: ${g.value}, ${g.limit}: ratio ${g.ratio.toFixed(2)}, ${g.met ? 'met' : 'NOT met'}\n`);
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === import.meta.filename) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  });
}
