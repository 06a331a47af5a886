/** `npm run bench`: what UUIDv7 keys buy on this server, as a table, JSON and an SVG chart. */
import fs from 'node:fs';
import path from 'node:path';
import { runAllFigures, runKeyBench, type AllFigures } from '../bench/run.ts';
import { keyBenchFooter, keyBenchPanels, renderChart } from '../bench/chart.ts';
import { figurePanels, renderFigureTable } from '../bench/figures.ts';
import { ratiosAgainstV4 } from '../bench/metrics.ts';
import { parseBenchFlags, type BenchFlags } from '../bench/options.ts';
import { renderTable, runLine } from '../bench/table.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { connectionFor, describeEngine, type Target } from '../server/target.ts';
import type { Step } from '../pipeline/step.ts';
import { runSteps } from '../pipeline/run.ts';
import { withProject, type CommonOptions, type Project } from '../pipeline/project.ts';

/** Refuses a server pgstrap does not own unless told --yes, and a stopped cluster. */
function assertBenchTarget(target: Target, yes: boolean): void {
  if (target.kind === 'external' && !yes) {
    throw new PgstrapError({
      code: 'bench.external-needs-yes',
      message: `the bench would create and load tables on ${describeEngine(target)}, a server pgstrap does not own`,
      remedy: 'Add --yes to run it there anyway (it works in its own pgstrap_bench_<pid> schema and drops it at the end).',
      exit: ExitCode.usage,
    });
  }
  if (target.kind !== 'external' && !target.cluster.status().running) {
    throw new PgstrapError({
      code: 'bench.not-running',
      message: 'the project-local cluster is not running',
      remedy: 'Run npm run setup (or npm run db:start) first.',
      exit: ExitCode.cluster,
    });
  }
}

/** Runs the benchmark and prints it; writes the chart to --chart or <stateDir>/bench.svg. */
export async function benchCommand(options: CommonOptions, flags: BenchFlags): Promise<ExitCode> {
  const keyOptions = parseBenchFlags(flags);
  return withProject(options, 'bench', (project) => bench(project, flags, keyOptions));
}

async function bench({ config, target, output }: Project, flags: BenchFlags, keyOptions: ReturnType<typeof parseBenchFlags>): Promise<ExitCode> {
  assertBenchTarget(target, Boolean(flags.yes));
  if (target.kind !== 'external') keyOptions.binDir = target.binaries.binDir;
  keyOptions.fallbackRandom = config.uuidv7.fallbackRandom;
  const database = target.databases[0]!.name;
  output.say(`pgstrap bench: ${describeEngine(target)}, database ${database}`);
  const runList = (steps: Step[]) => runSteps(steps, { config, target, reports: [] }, output.mode);
  const report = await runKeyBench(connectionFor(target, database), keyOptions, runList);
  const all: AllFigures | undefined = flags.all ? await runAllFigures(config, target, runList) : undefined;
  const figures = all?.figures ?? [];
  const chartFile = path.resolve(flags.chart ?? path.join(config.stateDir, 'bench.svg'));
  fs.mkdirSync(path.dirname(chartFile), { recursive: true });
  const keySection = figures.length > 0 ? `Primary keys: ${report.rows.toLocaleString('en-US')} rows per generator` : undefined;
  const panels = [...keyBenchPanels(report, keySection), ...figurePanels(figures)];
  const command = `npm run bench -- --rows ${keyOptions.rows}${flags.all ? ' --all' : ''}`;
  fs.writeFileSync(chartFile, renderChart({ title: 'What UUIDv7 keys buy on this server', subtitle: runLine(report), panels, footer: keyBenchFooter(report, command) }));
  if (output.mode === 'json') {
    output.json({ ok: true, engine: describeEngine(target), database, chart: chartFile, keys: report, ratios: ratiosAgainstV4(report), ...(all ? { all } : {}) });
  } else {
    output.say(`\n${renderTable(report)}\n`);
    for (const note of [...report.notes, ...(all?.notes ?? [])]) output.say(`note: ${note}`);
    if (figures.length > 0) output.say(`\n${renderFigureTable(figures)}`);
    output.say(`\nChart: ${chartFile}`);
  }
  return ExitCode.ok;
}
