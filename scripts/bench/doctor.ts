/**
 * Warm doctor wall time, Node start included: spawns the CLI N times against a healthy project and reports the
 * median, as `npm run --silent doctor` (what a developer types) and as `node scripts/pgstrap.mjs doctor` (without npm).
 * The goal (issue 5) is under 1 s. `npm run bench -- --all` calls measureDoctor; run alone:
 *
 *   node --import tsx scripts/bench/doctor.ts [--runs N] [--config FILE]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { Timing } from './model.ts';
import { median } from './stats.ts';
import { installRoot } from '../shared/install-root.ts';

/** The repository root: its package.json has the doctor script, its scripts/cli.ts is the CLI. */
const REPO_ROOT = installRoot();

/** What to measure. */
export interface DoctorBenchOptions {
  /** Runs of each variant (after one warm-up run each). Default 10. */
  runs?: number;
  /** The project's config file; default: the repository's own project. */
  config?: string | undefined;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** Warm doctor timings, in seconds, and whether the project was healthy while measured. */
export interface DoctorFigures {
  npm: Timing;
  node: Timing;
  /** True when every run exited 0: an unhealthy doctor measures a different path. */
  healthy: boolean;
  /** The exit codes seen, for a report that says why it was not healthy. */
  exitCodes: number[];
  goals: { warmUnder1s: boolean };
}

/** Spawns `program args` in `cwd`, output discarded; resolves to [seconds, exit code]. */
function timedSpawn(program: string, args: string[], cwd: string): Promise<[number, number]> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true' };
    // The project's own cluster is measured, never a server PGSTRAP_URL points at.
    delete env.PGSTRAP_URL;
    const child = spawn(program, args, { cwd, stdio: 'ignore', env });
    child.once('error', reject);
    child.once('close', (code) => resolve([(performance.now() - started) / 1000, code ?? -1]));
  });
}

function timing(runs: number[]): Timing {
  return { runs: runs.map((s) => Math.round(s * 1000) / 1000), median: median(runs) };
}

/** Measures warm doctor, alternating the two variants so neither gets a warmer cache. */
export async function measureDoctor(options: DoctorBenchOptions = {}): Promise<DoctorFigures> {
  const runs = options.runs ?? 10;
  const log = options.log ?? (() => {});
  const configArgs = options.config ? ['--config', path.resolve(options.config)] : [];
  const npmArgs = ['run', '--silent', 'doctor', ...(configArgs.length > 0 ? ['--', ...configArgs] : [])];
  const nodeArgs = [path.join(REPO_ROOT, 'scripts/pgstrap.mjs'), 'doctor', ...configArgs];
  const npm: number[] = [];
  const node: number[] = [];
  const exitCodes = new Set<number>();
  for (let i = 0; i <= runs; i += 1) {
    const [npmSeconds, npmCode] = await timedSpawn('npm', npmArgs, REPO_ROOT);
    const [nodeSeconds, nodeCode] = await timedSpawn(process.execPath, nodeArgs, REPO_ROOT);
    // The first round warms the file cache and builds the CLI bundle if a source changed; it is not counted.
    if (i === 0) continue;
    log(`doctor run ${i}/${runs}: npm ${npmSeconds.toFixed(3)} s, node ${nodeSeconds.toFixed(3)} s`);
    npm.push(npmSeconds);
    node.push(nodeSeconds);
    exitCodes.add(npmCode).add(nodeCode);
  }
  const npmTiming = timing(npm);
  return {
    npm: npmTiming,
    node: timing(node),
    healthy: [...exitCodes].every((c) => c === 0),
    exitCodes: [...exitCodes],
    goals: { warmUnder1s: npmTiming.median < 1 },
  };
}

// Run directly: print the figures. (No top-level await: the CLI's bundle, one CommonJS file, holds this module.)
async function printFigures(): Promise<void> {
  const { values } = parseArgs({ options: { runs: { type: 'string' }, config: { type: 'string' } } });
  const figures = await measureDoctor({ runs: values.runs ? Number(values.runs) : 10, config: values.config, log: (l) => process.stderr.write(`${l}\n`) });
  const show = (t: Timing) => `median ${t.median.toFixed(3)} s (min ${Math.min(...t.runs).toFixed(3)}, max ${Math.max(...t.runs).toFixed(3)}, ${t.runs.length} runs)`;
  process.stdout.write(`npm run --silent doctor                 ${show(figures.npm)}\n`);
  process.stdout.write(`node scripts/pgstrap.mjs doctor ${show(figures.node)}\n`);
  process.stdout.write(`goal: warm doctor under 1 s: ${figures.goals.warmUnder1s ? 'met' : 'NOT met'}\n`);
  if (!figures.healthy) process.stdout.write(`note: doctor exited ${figures.exitCodes.join(', ')}: the project is not healthy (npm run doctor says why), so this is not the warm path\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  printFigures().catch((error: unknown) => {
    process.stderr.write(`bench doctor failed: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
