/** Runs the benchmarks as a task list and returns their figures; the command prints them. */
import type { ResolvedConfig } from '../scripts/core/config/types.ts';
import type { GeneratorResult, KeyBenchReport, SetupFigures } from '../scripts/core/bench/model.ts';
import { formatValue } from '../scripts/core/bench/metrics.ts';
import type { KeyBenchOptions } from '../scripts/core/bench/options.ts';
import type { ConnectionTarget } from '../scripts/db/client.ts';
import type { Step } from '../scripts/steps/step.ts';
import { withBenchSession } from './session.ts';
import { measureSetup } from './setup-figures.ts';
import { describeServer, keyBenchReport, measureGenerator, planKeyBench } from './uuid-keys.ts';

/** Runs steps as a task list (the pipeline's renderer in the CLI, a quiet loop in tests). */
export type StepRunner = (steps: Step[]) => Promise<unknown>;

/** The line a finished generator's task shows. */
function summaryOf(result: GeneratorResult): string {
  return [
    `bulk ${formatValue(result.bulk.seconds, 's')}`,
    `index ${formatValue(result.index.bytes / 1024 / 1024, 'MB')}`,
    `${formatValue(result.inserts.perSecond, 'inserts/s')}`,
    `poll p50 ${formatValue(result.polling.p50, 'ms')}`,
  ].join(', ');
}

/** The primary-key benchmark on one database: one task per generator, clean-up whatever happens. */
export async function runKeyBench(connection: ConnectionTarget, options: KeyBenchOptions, runSteps: StepRunner): Promise<KeyBenchReport> {
  return withBenchSession(connection, async (session) => {
    const plan = await planKeyBench(session);
    const server = await describeServer(session);
    const results: GeneratorResult[] = [];
    const steps: Step[] = plan.generators.map((generator) => ({
      id: `bench.${generator.id}`,
      title: `Measure ${generator.label}`,
      run: async (ctx) => {
        const result = await measureGenerator(session, plan, generator, options, ctx.log);
        results.push(result);
        // A single "change" is what the task list shows after the title.
        return { changes: [summaryOf(result)] };
      },
    }));
    await runSteps(steps);
    return keyBenchReport(options, server, plan, results);
  });
}

/** Setup speed (cold against the floor, warm) as one task; the figures it returns. */
export async function runSetupFigures(config: ResolvedConfig, runSteps: StepRunner, options: { coldRuns: number; warmRuns: number } = { coldRuns: 2, warmRuns: 5 }): Promise<SetupFigures> {
  let figures: SetupFigures | undefined;
  await runSteps([
    {
      id: 'bench.setup',
      title: 'Measure cold npm run setup against bench/floor.sh, and warm npm run setup',
      run: async (ctx) => {
        figures = await measureSetup(config, { ...options, log: ctx.log });
        return { changes: [`cold ${formatValue(figures.coldSetup.median, 's')} vs floor ${formatValue(figures.floor.median, 's')}, warm ${formatValue(figures.warmSetup.median, 's')}`] };
      },
    },
  ]);
  return figures!;
}
