/** `db:reset` and `db:seed`: thin bindings over scripts/reset/ and scripts/seeds/. */
import { ExitCode } from '../shared/errors.ts';
import { type CommonOptions, selectDatabases, withProject } from '../pipeline/project.ts';
import { DATABASE_STEPS, runPipeline, START_STEPS } from '../pipeline/steps.ts';
import { seedsStep } from '../seeds/step.ts';
import { planReset } from '../reset/plan.ts';
import { dropDatabasesStep, narrowTarget } from '../reset/run.ts';

/** The flags of db:reset. */
export interface ResetFlags {
  database?: string | undefined;
  /** External servers: the names typed back. */
  yesDrop?: string[] | undefined;
}

/** `pgstrap db:reset`: drop, recreate, extensions, uuidv7(), migrations, seeds. */
export async function resetCommand(options: CommonOptions, flags: ResetFlags): Promise<ExitCode> {
  return withProject(options, 'db:reset', async (project) => {
    const { target, config } = project;
    const databases = selectDatabases(target, flags.database);
    const names = planReset(
      { kind: target.kind, urlNamesDatabase: target.kind === 'external' && !target.mayCreateDatabases, configured: config.databases.map((d) => d.name) },
      databases,
      flags.yesDrop,
    );
    const steps = [...(target.kind === 'external' ? [] : START_STEPS), dropDatabasesStep(names), ...DATABASE_STEPS];
    return (await runPipeline({ ...project, target: narrowTarget(target, names) }, steps, { writes: 'db:reset', endsProcess: true })).exit;
  });
}

/** `pgstrap db:seed`: the seed files of each database (or `--database`'s), in name order. */
export async function seedCommand(options: CommonOptions, flags: { database?: string | undefined }): Promise<ExitCode> {
  return withProject(options, 'db:seed', async (project) => {
    const databases = selectDatabases(project.target, flags.database);
    return (await runPipeline({ ...project, target: narrowTarget(project.target, databases.map((d) => d.name)) }, [seedsStep], { writes: 'db:seed', endsProcess: true })).exit;
  });
}
