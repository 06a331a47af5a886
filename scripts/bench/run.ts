/** Runs the benchmarks as a task list and returns their figures; the command prints them. */
import type { ResolvedConfig } from '../config/types.ts';
import { doctorFigureList, generationFigureList, migrationFigureList, setupFigureList } from './figures.ts';
import type { Figure, GeneratorResult, InsertThroughput, KeyBenchReport, SetupFigures } from './model.ts';
import { formatValue } from './metrics.ts';
import type { KeyBenchOptions } from './options.ts';
import type { GenerationReport } from './generation.ts';
import { withClient, type ConnectionTarget } from '../server/connection.ts';
import { connectionFor, type Target } from '../server/target.ts';
import type { Step } from '../pipeline/step.ts';
import { measureDoctor, type DoctorFigures } from './doctor.ts';
import type { MigrationBenchReport } from './migrations.ts';
import { withBenchSession } from './session.ts';
import { measureSetup } from './setup-figures.ts';
import { measureUuidv7Generation } from './uuidv7-generation.ts';
import { describeServer, keyBenchReport, measureGenerator, measureInserts, planKeyBench } from './uuid-keys.ts';

/** Runs steps as a task list (the pipeline's renderer in the CLI, a quiet loop in tests). */
export type StepRunner = (steps: Step[]) => Promise<unknown>;

/** The line a finished generator's task shows. */
function summaryOf(result: Omit<GeneratorResult, 'inserts'>): string {
  return [
    `bulk ${formatValue(result.bulk.seconds, 's')}`,
    `index ${formatValue(result.index.bytes / 1024 / 1024, 'MB')}`,
    `poll p50 ${formatValue(result.polling.p50, 'ms')}`,
  ].join(', ');
}

/** The primary-key benchmark on one database: one task per generator, clean-up whatever happens. */
export async function runKeyBench(connection: ConnectionTarget, options: KeyBenchOptions, runSteps: StepRunner): Promise<KeyBenchReport> {
  return withBenchSession(connection, async (session) => {
    const plan = await planKeyBench(session, options.fallbackRandom);
    const server = await describeServer(session);
    const measured: Array<Omit<GeneratorResult, 'inserts'>> = [];
    let inserts = new Map<string, InsertThroughput>();
    const steps: Step[] = plan.generators.map((generator) => ({
      id: `bench.${generator.id}`,
      title: `Measure ${generator.label}`,
      run: async (ctx) => {
        const result = await measureGenerator(session, plan, generator, options, ctx.log);
        measured.push(result);
        // A single "change" is what the task list shows after the title.
        return { changes: [summaryOf(result)] };
      },
    }));
    steps.push({
      id: 'bench.inserts',
      title: `Time single-row inserts, the generators taking turns in ${options.insertRounds} rounds`,
      run: async (ctx) => {
        inserts = await measureInserts(session, plan.generators, options, ctx.log);
        return { changes: [plan.generators.map((g) => `${g.id} ${formatValue(inserts.get(g.id)!.perSecond, 'tx/s')}`).join(', ')] };
      },
    });
    await runSteps(steps);
    const results: GeneratorResult[] = measured.map((m) => ({ ...m, inserts: inserts.get(m.generator.id)! }));
    return keyBenchReport(options, server, plan, results);
  });
}

/** Everything `--all` adds to the key benchmark. */
export interface AllFigures {
  setup: SetupFigures;
  doctor?: DoctorFigures | undefined;
  migrations?: MigrationBenchReport | undefined;
  generation?: GenerationReport | undefined;
  figures: Figure[];
  notes: string[];
}

/**
 * The other performance figures, one task each: setup (scratch embedded projects), warm doctor and
 * migrations (the project-local cluster only: they create databases), uuidv7 generation (the target).
 */
export async function runAllFigures(config: ResolvedConfig, target: Target, runSteps: StepRunner): Promise<AllFigures> {
  const out: Partial<AllFigures> & { figures: Figure[]; notes: string[] } = { figures: [], notes: [] };
  // Aborted on Ctrl-C, so a step that can stop between its runs does not finish them all first.
  const interrupt = new AbortController();
  const steps: Step[] = [
    {
      id: 'bench.setup',
      title: 'Measure cold npm run setup against scripts/bench/floor.sh, and warm npm run setup',
      run: async (ctx) => {
        const setup = await measureSetup(config, { coldRuns: 2, warmRuns: 5, log: ctx.log, signal: interrupt.signal });
        out.setup = setup;
        out.figures.push(...setupFigureList(setup));
        return { changes: [`cold ${formatValue(setup.coldSetup.median, 's')} vs floor ${formatValue(setup.floor.median, 's')}, warm ${formatValue(setup.warmSetup.median, 's')}`] };
      },
    },
    {
      id: 'bench.doctor',
      title: 'Measure warm npm run doctor',
      skip: () => (target.kind === 'external' ? 'doctor is measured on the project-local cluster only' : undefined),
      run: async (ctx) => {
        const doctor = await measureDoctor({ runs: 5, config: config.file, log: ctx.log });
        out.doctor = doctor;
        out.figures.push(...doctorFigureList(doctor));
        return { changes: [`median ${formatValue(doctor.npm.median, 's')}`] };
      },
    },
    {
      id: 'bench.migrations',
      title: 'Measure migrations against node-pg-migrate',
      skip: () => (target.kind === 'external' ? 'migrations are measured on the project-local cluster only (they create scratch databases)' : undefined),
      run: async (ctx) => {
        // node-pg-migrate is a devDependency of this repository that an app installing pgstrap does not have,
        // and `pgstrap bench` without --all must not need it.
        const { measureMigrations } = await import('./migrations.ts');
        let migrations: MigrationBenchReport;
        try {
          migrations = await measureMigrations(target, { log: ctx.log });
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== 'ERR_MODULE_NOT_FOUND' || !/node-pg-migrate/.test(String((error as Error).message))) throw error;
          return { changes: [], notes: ['not measured: node-pg-migrate is not installed here (npm install -D -E node-pg-migrate@9.0.0 to compare)'], status: 'warning' as const };
        }
        out.migrations = migrations;
        out.figures.push(...migrationFigureList(migrations));
        return { changes: [`pgstrap ${formatValue(migrations.apply.median.pgstrap / 1000, 's')}, node-pg-migrate ${formatValue(migrations.apply.median.nodePgMigrate / 1000, 's')}`] };
      },
    },
    {
      id: 'bench.uuidv7',
      title: 'Measure uuidv7 generation and 1,000,000-row inserts',
      run: async (ctx) => {
        const generation = await withClient(connectionFor(target, target.databases[0]!.name), (client) =>
          measureUuidv7Generation(client, { rows: 1_000_000, repeats: 3, insertRepeats: 1, fallbackRandom: config.uuidv7.fallbackRandom, log: ctx.log }),
        );
        out.generation = generation;
        out.figures.push(...generationFigureList(generation));
        return { changes: [generation.figures.map((f) => `${f.label} ${formatValue(f.generateSeconds, 's')}`).join(', ')] };
      },
    },
  ];
  if (target.kind === 'external') out.notes.push('doctor and migrations are measured on the project-local cluster only, so not on this external server');
  await runInterruptibly(steps, runSteps, interrupt);
  return out as AllFigures;
}

/**
 * Runs steps so that Ctrl-C stops between steps, after the current one has removed what it made
 * (scratch projects and their clusters, scratch databases and schemas): a child killed by the same
 * Ctrl-C fails its step, whose clean-up then runs. A second Ctrl-C exits at once.
 */
async function runInterruptibly(steps: Step[], runSteps: StepRunner, interrupt: AbortController): Promise<void> {
  let interrupted = false;
  const onSignal = () => {
    if (interrupted) process.exit(130);
    interrupted = true;
    interrupt.abort();
    process.stderr.write('\nSIGINT: stopping once the current step has cleaned up (Ctrl-C again to exit at once)\n');
  };
  process.on('SIGINT', onSignal);
  const guarded = steps.map((step) => ({
    ...step,
    run: async (ctx: Parameters<Step['run']>[0]) => {
      if (interrupted) throw new Error('interrupted');
      return step.run(ctx);
    },
  }));
  try {
    await runSteps(guarded);
  } catch (error) {
    if (!interrupted) throw error;
  } finally {
    process.off('SIGINT', onSignal);
  }
  if (interrupted) process.exit(130);
}
