/**
 * `npm run bench:uuidv7-servers`: `npm run bench:uuidv7` on every PostgreSQL this machine has, one server after
 * the other, each as the project's cluster of a scratch project (so every server runs with the settings pgstrap
 * gives it), then one summary of the goals by server. The strong fallback's ratio to the peer depends on how
 * the server was built (docs/extensions.md#generation-speed-npm-run-benchuuidv7), so this is the run that shows
 * it. Not a timed test: figures to read, on a quiet machine.
 *
 *   node --import tsx bench/uuidv7-servers.ts [--only embedded-17,debian-15,...] [--rows N] [--repeats N]
 *
 * Servers: embedded-17 and embedded-18 (the npm packages), debian-15 (/usr/lib/postgresql/15/bin) and trixie-17
 * (Debian 13's, unpacked by test/servers/trixie-postgres.mjs). One that this machine lacks is skipped, saying why.
 */
import { parseArgs } from 'node:util';
import { loadConfig } from '../scripts/config/load.ts';
import { formatGenerationReport, generationGoals, type GenerationReport } from '../scripts/bench/generation.ts';
import { makeScratchProject, npmRun, removeScratch, scratchTarget } from '../scripts/bench/setup-figures.ts';
import { measureUuidv7Generation } from '../scripts/bench/uuidv7-generation.ts';
import { fixedWidthTable } from '../scripts/bench/table.ts';
import { withClient } from '../scripts/server/connection.ts';
import { firstFreePort } from '../scripts/server/port.ts';
import { connectionFor } from '../scripts/server/target.ts';
import { messageOf } from '../scripts/shared/errors.ts';
import { installRoot } from '../scripts/shared/install-root.ts';
import { debianPostgres } from '../test/support/project.ts';
import { trixiePostgres } from '../test/support/trixie-postgres.ts';

const REPO_ROOT = installRoot();
const DATABASE = 'bench';

/** A server to measure: the engine a scratch project gets, and for `system` where its binaries are. */
interface Server {
  id: string;
  major: number;
  engine: 'embedded' | 'system';
  /** The binaries' folder (system engine), or why this machine has none. */
  binDir?: () => Promise<{ binDir: string } | { skip: string }>;
}

const SERVERS: Server[] = [
  { id: 'embedded-17', major: 17, engine: 'embedded' },
  { id: 'embedded-18', major: 18, engine: 'embedded' },
  { id: 'debian-15', major: 15, engine: 'system', binDir: () => debianPostgres(15) },
  // Debian 13's, as test/servers/trixie-postgres.mjs unpacks it (cached after the first build).
  { id: 'trixie-17', major: 17, engine: 'system', binDir: trixiePostgres },
];

/** The signal that stopped the run, if one did. */
let stoppedBy: NodeJS.Signals | undefined;

/** One server's report, or why it was not measured. */
type Outcome = { server: Server; report: GenerationReport } | { server: Server; skip: string };

async function measureOn(server: Server, options: { rows: number; repeats: number; insertRepeats: number; port: number }): Promise<Outcome> {
  const found = server.binDir ? await server.binDir() : undefined;
  if (found && 'skip' in found) return { server, skip: found.skip };
  const env: NodeJS.ProcessEnv = found ? { PG_BIN: found.binDir } : {};
  const source = await loadConfig({ cwd: REPO_ROOT });
  const dir = makeScratchProject({ ...source, postgresMajor: server.major, databases: [{ name: DATABASE }] as typeof source.databases, extensions: [] }, options.port, {
    engine: server.engine,
  });
  process.stderr.write(`${server.id}: scratch project ${dir}\n`);
  // Ctrl-C or a kill: the scratch server is stopped and its folder removed at once (which ends the query in
  // flight); main then stops and exits 130 or 143, as a shell expects.
  let removal: Promise<void> | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (removal) return;
    stoppedBy = signal;
    process.stderr.write(`\n${signal}: removing the scratch project ${dir} before exiting\n`);
    removal = removeScratch(dir, env).catch((error) => {
      process.stderr.write(`clean-up failed: ${messageOf(error)}\n`);
    });
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    await npmRun(dir, 'setup', env);
    const target = await scratchTarget(dir, env);
    const report = await withClient(connectionFor(target, DATABASE), (client) =>
      measureUuidv7Generation(client, {
        rows: options.rows,
        repeats: options.repeats,
        insertRepeats: options.insertRepeats,
        fallbackRandom: target.config.uuidv7.fallbackRandom,
        log: (line) => process.stderr.write(`  ${server.id}: ${line}\n`),
      }),
    );
    return { server, report };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await (removal ?? removeScratch(dir, env));
  }
}

/** Each server's goals side by side: a row per goal, a column per server. */
export function summarise(outcomes: Outcome[]): string {
  const measured = outcomes.filter((o): o is Extract<Outcome, { report: GenerationReport }> => 'report' in o);
  const goalsOf = measured.map((o) => generationGoals(o.report));
  const abouts = [...new Set(goalsOf.flat().map((g) => g.about))];
  const rows = abouts.map((about) => [
    about,
    ...goalsOf.map((goals) => {
      const goal = goals.find((g) => g.about === about);
      return goal ? `${goal.measured}: ${goal.met ? 'met' : 'NOT met'}` : '';
    }),
  ]);
  const lines = [fixedWidthTable(['goal', ...measured.map((o) => o.server.id)], rows)];
  for (const o of measured) lines.push(`${o.server.id}: ${o.report.server}`);
  for (const o of outcomes) if ('skip' in o) lines.push(`${o.server.id}: skipped, ${o.skip}`);
  return lines.join('\n');
}

async function main(argv: string[]): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: { only: { type: 'string' }, rows: { type: 'string', default: '1000000' }, repeats: { type: 'string', default: '5' } },
    strict: true,
  });
  const only = values.only?.split(',').map((s) => s.trim());
  const unknown = only?.filter((id) => !SERVERS.some((s) => s.id === id)) ?? [];
  if (unknown.length > 0) {
    process.stderr.write(`bench:uuidv7-servers: unknown server ${unknown.join(', ')} in --only (known: ${SERVERS.map((s) => s.id).join(', ')})\n`);
    return 2;
  }
  const rows = Number(values.rows.replaceAll(/[,_]/g, ''));
  const repeats = Number(values.repeats);
  if (!Number.isInteger(rows) || rows < 1 || !Number.isInteger(repeats) || repeats < 1) {
    process.stderr.write('bench:uuidv7-servers: --rows and --repeats take a whole number of at least 1\n');
    return 2;
  }
  const outcomes: Outcome[] = [];
  let port = await firstFreePort(56400);
  for (const server of SERVERS.filter((s) => !only || only.includes(s.id))) {
    try {
      const outcome = await measureOn(server, { rows, repeats, insertRepeats: Math.min(3, repeats), port });
      if ('report' in outcome) process.stdout.write(`\n== ${server.id}\n${formatGenerationReport(outcome.report)}\n`);
      outcomes.push(outcome);
    } catch (error) {
      if (!stoppedBy) outcomes.push({ server, skip: `failed: ${messageOf(error)}` });
    }
    if (stoppedBy) return stoppedBy === 'SIGINT' ? 130 : 143;
    port = await firstFreePort(port + 1);
  }
  process.stdout.write(`\n${summarise(outcomes)}\n`);
  return outcomes.some((o) => 'report' in o) ? 0 : 1;
}

if (process.argv[1]?.endsWith('uuidv7-servers.ts')) {
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
