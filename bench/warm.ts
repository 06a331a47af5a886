/**
 * `npm run bench:warm`: the warm commands a developer feels (setup on every pull, env on every `cd`, doctor),
 * each beside the floor it cannot beat: Node's own start, npm's start (a script that only starts Node) and one
 * database connection (Node, pg, connect, SELECT 1). A scratch project (embedded engine, two databases, the
 * shipped migrations) is set up once; then every command runs in turn, round after round, so a noisy moment
 * hits them all alike, and each goal is printed with its ratio and verdict. Not a timed test.
 *
 *   node --import tsx bench/warm.ts [--runs N]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { loadConfig } from '../scripts/config/load.ts';
import { median } from '../scripts/bench/stats.ts';
import { firstFreePort } from '../scripts/server/port.ts';
import { connectionFor } from '../scripts/server/target.ts';
import { selectTarget } from '../scripts/server/select.ts';
import { installRoot } from '../scripts/shared/install-root.ts';
import { makeScratchProject, npmRun, removeScratch } from '../scripts/bench/setup-figures.ts';

const REPO_ROOT = installRoot();
const CLI = path.join(REPO_ROOT, 'scripts/pgstrap.mjs');

/** One measured command. */
interface Command {
  id: string;
  label: string;
  program: string;
  args: string[];
  /** The floor it is compared with (a Command id). */
  floor?: string;
  /** At most this many seconds (median). */
  goal?: number;
}

/** A command's figures. */
export interface WarmFigure {
  id: string;
  label: string;
  median: number;
  runs: number[];
  floor?: string | undefined;
  goal?: number | undefined;
}

/** Node with pg: one connection to the server, one query, then exit (the floor of any command that asks the server). */
const ONE_CONNECTION = `
const pg = (await import(${JSON.stringify(path.join(REPO_ROOT, 'node_modules/pg/lib/index.js'))})).default;
const client = new pg.Client(JSON.parse(process.env.PGSTRAP_BENCH_CONNECTION));
await client.connect();
await client.query('SELECT 1');
await client.end();
`;

function commands(): Command[] {
  const node = process.execPath;
  return [
    { id: 'node', label: 'floor: Node start (node -e 0)', program: node, args: ['-e', '0'] },
    { id: 'npm', label: 'floor: npm start (npm run a script that starts Node)', program: 'npm', args: ['run', '--silent', 'noop'] },
    { id: 'connection', label: 'floor: Node, pg, one connection, SELECT 1', program: node, args: ['--input-type=module', '-e', ONE_CONNECTION], floor: 'node' },
    { id: 'setup-npm', label: 'npm run setup (nothing to do)', program: 'npm', args: ['run', '--silent', 'setup'], floor: 'npm', goal: 0.6 },
    { id: 'setup-node', label: 'node scripts/pgstrap.mjs setup', program: node, args: [CLI, 'setup'], floor: 'node', goal: 0.3 },
    { id: 'doctor-npm', label: 'npm run doctor', program: 'npm', args: ['run', '--silent', 'doctor'], floor: 'npm', goal: 0.5 },
    { id: 'doctor-node', label: 'node scripts/pgstrap.mjs doctor', program: node, args: [CLI, 'doctor'], floor: 'node' },
    { id: 'env-npm', label: 'npm run --silent env', program: 'npm', args: ['run', '--silent', 'env'], floor: 'npm', goal: 0.45 },
    { id: 'env-node', label: 'node scripts/pgstrap.mjs env', program: node, args: [CLI, 'env'], floor: 'node' },
  ];
}

function timedSpawn(command: Command, cwd: string, connection: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, CI: 'true', PGSTRAP_BENCH_CONNECTION: connection };
    delete env.PGSTRAP_URL;
    const started = performance.now();
    const child = spawn(command.program, command.args, { cwd, stdio: 'ignore', env });
    child.once('error', reject);
    child.once('close', (code) => {
      if (code !== 0) reject(new Error(`${command.label} exited with ${code} in ${cwd}`));
      else resolve((performance.now() - started) / 1000);
    });
  });
}

/** Sets up a scratch project, measures every command `runs` times in turn (after one warm-up round), removes it. */
export async function measureWarm(options: { runs: number; log?: (line: string) => void }): Promise<WarmFigure[]> {
  const log = options.log ?? (() => {});
  const source = await loadConfig({ cwd: REPO_ROOT });
  const port = await firstFreePort(source.port + 300);
  const cli = `node ${JSON.stringify(CLI)}`;
  const dir = makeScratchProject({ ...source, databases: [{ name: 'app' }, { name: 'app_test' }] as typeof source.databases }, port, {
    scripts: { noop: `${JSON.stringify(process.execPath)} -e 0`, doctor: `${cli} doctor`, env: `${cli} env` },
    migrations: path.join(REPO_ROOT, 'examples', 'migrations'),
  });
  try {
    log(`scratch project ${dir}: cold setup`);
    await npmRun(dir, 'setup');
    const config = await loadConfig({ cwd: dir });
    const target = await selectTarget(config, { env: { ...process.env, PGSTRAP_URL: undefined } });
    const connection = JSON.stringify(connectionFor(target, 'app'));
    const list = commands();
    const times = new Map<string, number[]>(list.map((c) => [c.id, []]));
    for (let round = 0; round <= options.runs; round++) {
      const line: string[] = [];
      for (const c of list) {
        const s = await timedSpawn(c, dir, connection);
        // The first round warms the file cache and the CLI bundle; it is not counted.
        if (round > 0) times.get(c.id)!.push(s);
        line.push(`${c.id} ${s.toFixed(3)}`);
      }
      log(`${round === 0 ? 'warm-up' : `round ${round}/${options.runs}`}: ${line.join(', ')}`);
    }
    return list.map((c) => ({ id: c.id, label: c.label, median: median(times.get(c.id)!), runs: times.get(c.id)!, floor: c.floor, goal: c.goal }));
  } finally {
    await removeScratch(dir);
  }
}

/** The figures as a table: median, the floor's median and the ratio to it, and each goal's verdict. */
export function formatWarm(figures: readonly WarmFigure[], runs: number): string {
  const byId = new Map(figures.map((f) => [f.id, f]));
  const lines = [`warm commands, embedded PostgreSQL, two databases, the example migrations; median of ${runs}, commands in turn`, ''];
  lines.push(`${'command'.padEnd(54)} ${'median'.padStart(8)} ${'floor'.padStart(8)} ${'ratio'.padStart(6)}  goal`);
  for (const f of figures) {
    const floor = f.floor ? byId.get(f.floor) : undefined;
    const goal = f.goal === undefined ? '' : `at most ${f.goal.toFixed(2)} s: ${f.median <= f.goal ? 'met' : 'NOT met'}`;
    lines.push(
      [
        f.label.padEnd(54),
        `${f.median.toFixed(3)} s`.padStart(8),
        (floor ? `${floor.median.toFixed(3)} s` : '').padStart(8),
        (floor ? `${(f.median / floor.median).toFixed(2)}x` : '').padStart(6),
        ` ${goal}`,
      ].join(' '),
    );
  }
  return lines.join('\n');
}

if (process.argv[1]?.endsWith('warm.ts')) {
  const argv = process.argv.slice(2);
  const runs = argv.includes('--runs') ? Number(argv[argv.indexOf('--runs') + 1]) : 7;
  measureWarm({ runs, log: (line) => process.stderr.write(`  ${line}\n`) }).then(
    (figures) => process.stdout.write(`${formatWarm(figures, runs)}\n`),
    (error: unknown) => {
      process.stderr.write(`bench:warm failed: ${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}
