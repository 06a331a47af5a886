/**
 * Setup speed on the embedded engine, in throwaway projects: cold `npm run setup` against the bare-script
 * floor (scripts/bench/floor.sh), without and with the stop that ends each (`pgstrap stop` started as the floor
 * starts `pg_ctl stop`: a program run directly, not through a second `npm run`, whose 0.3-0.5 s is npm's),
 * and warm `npm run setup` (nothing to do), Node start included.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import type { ResolvedConfig } from '../config/types.ts';
import type { SetupFigures, Timing } from './model.ts';
import { median, pairedRatio } from './stats.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { firstFreePort } from '../server/port.ts';
import { run } from '../server/process.ts';
import { selectTarget } from '../server/select.ts';
import type { ManagedTarget } from '../server/target.ts';
import { installRoot } from '../shared/install-root.ts';

/** The repository root, whose node_modules and CLI the throwaway projects use. */
const REPO_ROOT = installRoot();

/** How many runs of each. */
export interface SetupFigureOptions {
  coldRuns: number;
  warmRuns: number;
  log?: (line: string) => void;
  /** Stops between runs once aborted (Ctrl-C); what was started is still removed. */
  signal?: AbortSignal | undefined;
  /** A migrations folder to copy into each scratch project (default: none, an empty folder). */
  migrations?: string | undefined;
}

function timing(runs: number[]): Timing {
  return { runs: runs.map((s) => Math.round(s * 1000) / 1000), median: median(runs) };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return (performance.now() - started) / 1000;
}

/**
 * A throwaway project: package.json with the setup script (and `scripts`, name to command), the config,
 * node_modules linked to this repo's, and an empty migrations folder unless `migrations` names one to copy.
 * The engine is the embedded one unless `engine` says `system` (whose binaries then come from PG_BIN in the
 * `env` given to npmRun, scratchTarget and removeScratch).
 */
export function makeScratchProject(
  source: ResolvedConfig,
  port: number,
  extra: { scripts?: Record<string, string>; migrations?: string; engine?: 'embedded' | 'system' } = {},
): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-bench-setup-'));
  // 0755: the server user must reach the state folder inside it when we run as root.
  fs.chmodSync(dir, 0o755);
  fs.symlinkSync(path.join(REPO_ROOT, 'node_modules'), path.join(dir, 'node_modules'));
  const cli = `node ${JSON.stringify(path.join(REPO_ROOT, 'scripts/pgstrap.mjs'))}`;
  const pkg = { name: 'pgstrap-bench-project', private: true, type: 'module', scripts: { setup: `${cli} setup`, 'db:stop': `${cli} stop`, ...extra.scripts } };
  fs.writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(pkg, null, 2)}\n`);
  const config = {
    engine: extra.engine ?? 'embedded',
    postgresMajor: source.postgresMajor,
    port,
    databases: source.databases.map((d) => d.name),
    extensions: source.extensions.map((e) => ({ name: e.name, required: e.required })),
  };
  fs.writeFileSync(path.join(dir, 'extensions.config.mjs'), `export default ${JSON.stringify(config, null, 2)};\n`);
  if (extra.migrations) fs.cpSync(extra.migrations, path.join(dir, 'migrations'), { recursive: true });
  else fs.mkdirSync(path.join(dir, 'migrations'));
  return dir;
}

/** Runs `program args` in the scratch project `dir` (`what` names it for the error); a failure is an error with its last lines. */
async function runInScratch(dir: string, what: string, program: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<void> {
  const result = await run(program, args, { cwd: dir, env: scratchEnv(env), reject: false, timeoutMs: 600_000 });
  if (result.exitCode !== 0) {
    throw new PgstrapError({
      code: 'bench.setup-failed',
      message: `${what} failed in the bench's scratch project ${dir}`,
      details: String(result.stderr || result.stdout).trim().split('\n').slice(-10),
      remedy: 'Run npm run setup in this repository to see the same failure with its explanation.',
      exit: ExitCode.failure,
    });
  }
}

/** The environment a scratch project's commands see: this one plus `env`, never a server by URL. */
function scratchEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return { ...process.env, CI: 'true', ...env, PGSTRAP_URL: undefined };
}

/** `npm run --silent <script>` in a scratch project. */
export function npmRun(dir: string, script: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  return runInScratch(dir, `npm run ${script}`, 'npm', ['run', '--silent', script], env);
}

/** The CLI itself in a scratch project (`node scripts/pgstrap.mjs ARGS`, no npm), as the floor runs pg_ctl. */
function cliRun(dir: string, ...args: string[]): Promise<void> {
  return runInScratch(dir, `pgstrap ${args.join(' ')}`, process.execPath, [path.join(REPO_ROOT, 'scripts/pgstrap.mjs'), ...args]);
}

/** The scratch project's cluster, as its commands see it. */
export async function scratchTarget(dir: string, env: NodeJS.ProcessEnv = {}): Promise<ManagedTarget> {
  const config = await loadConfig({ cwd: dir });
  const target = await selectTarget(config, { env: scratchEnv(env) });
  if (target.kind === 'external') throw new Error('the scratch project resolved to an external server');
  return target;
}

/** Stops a scratch project's cluster and removes it, with any relocated runtime folder. */
export async function removeScratch(dir: string, env: NodeJS.ProcessEnv = {}): Promise<void> {
  try {
    const target = await scratchTarget(dir, env);
    await target.cluster.stop();
    if (target.layout.relocated) fs.rmSync(target.layout.runtimeDir, { recursive: true, force: true });
  } catch {
    // Nothing started there.
  }
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * One floor run: scripts/bench/floor.sh in a fresh folder as the server user, then its stop (pg_ctl stop -m fast
 * --wait), timed apart; removes it after. Resolves to [floor, stop] seconds.
 */
async function floorRun(target: ManagedTarget, databases: string[]): Promise<[number, number]> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pgstrap-floor-'));
  fs.chmodSync(dir, 0o755);
  const data = path.join(dir, 'data');
  const socket = path.join(dir, 'run');
  fs.mkdirSync(socket, { mode: 0o700 });
  if (target.user) {
    fs.chownSync(dir, target.user.uid, target.user.gid);
    fs.chownSync(socket, target.user.uid, target.user.gid);
  }
  const port = await firstFreePort(target.config.port + 100);
  const bin = target.binaries.binDir;
  try {
    const floor = await timed(() =>
      run('sh', [path.join(REPO_ROOT, 'scripts/bench/floor.sh'), bin, data, socket, String(port), ...databases], { as: target.user, timeoutMs: 300_000 }),
    );
    const stop = await timed(() => run(path.join(bin, 'pg_ctl'), ['stop', '--pgdata', data, '--mode=fast', '--wait', '--silent'], { as: target.user, timeoutMs: 120_000 }));
    return [floor, stop];
  } finally {
    await run(path.join(bin, 'pg_ctl'), ['stop', '--pgdata', data, '--mode=immediate', '--wait', '--silent'], { as: target.user, reject: false });
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Measures cold setup against the floor (alternating, so neither gets a warmer cache) and warm setup. */
export async function measureSetup(source: ResolvedConfig, options: SetupFigureOptions): Promise<SetupFigures> {
  const log = options.log ?? (() => {});
  const floor: number[] = [];
  const cold: number[] = [];
  const floorWithStop: number[] = [];
  const coldWithStop: number[] = [];
  const warm: number[] = [];
  const warmNode: number[] = [];
  const databases = source.databases.map((d) => d.name);
  let engine = '';
  const stopIfAborted = () => options.signal?.throwIfAborted();
  for (let i = 0; i < options.coldRuns; i += 1) {
    stopIfAborted();
    const dir = makeScratchProject(source, await firstFreePort(source.port + 200), { migrations: options.migrations });
    try {
      const target = await scratchTarget(dir);
      engine = `embedded PostgreSQL ${target.binaries.version}`;
      log(`floor run ${i + 1}/${options.coldRuns}: initdb, pg_ctl start, CREATE DATABASE ${databases.join(', ')}`);
      const [floorSeconds, floorStop] = await floorRun(target, databases);
      floor.push(floorSeconds);
      floorWithStop.push(floorSeconds + floorStop);
      stopIfAborted();
      log(`cold npm run setup ${i + 1}/${options.coldRuns}`);
      const coldSeconds = await timed(() => npmRun(dir, 'setup'));
      cold.push(coldSeconds);
      coldWithStop.push(coldSeconds + (await timed(() => cliRun(dir, 'stop'))));
      if (i === options.coldRuns - 1) {
        await npmRun(dir, 'setup'); // started again: the warm runs find it running
        for (let w = 0; w < options.warmRuns; w += 1) {
          stopIfAborted();
          log(`warm npm run setup ${w + 1}/${options.warmRuns}`);
          warm.push(await timed(() => npmRun(dir, 'setup')));
          warmNode.push(
            await timed(() => run(process.execPath, [path.join(REPO_ROOT, 'scripts/pgstrap.mjs'), 'setup'], { cwd: dir, env: { ...process.env, CI: 'true' } })),
          );
        }
      }
    } finally {
      await removeScratch(dir);
    }
  }
  const floorT = timing(floor);
  const coldT = timing(cold);
  const warmT = timing(warm);
  const coldRatio = pairedRatio(cold, floor);
  const withStop = { floor: timing(floorWithStop), coldSetup: timing(coldWithStop) };
  return {
    engine,
    databases,
    floor: floorT,
    coldSetup: coldT,
    coldRatio,
    withStop: { ...withStop, ratio: pairedRatio(coldWithStop, floorWithStop) },
    warmSetup: warmT,
    warmSetupNode: timing(warmNode),
    goals: { coldWithin1_5xFloor: coldRatio <= 1.5, warmUnder1s: warmT.median < 1 },
  };
}
