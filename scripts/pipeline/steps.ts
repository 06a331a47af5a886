/**
 * The one list of setup steps, and running a list of them against a project: what setup, db:start, verify,
 * migrate and doctor --fix share.
 */
import { ExitCode } from '../shared/errors.ts';
import { nothingChanged, summaryLine, type StepReport } from './report.ts';
import { describeEngine } from '../server/target.ts';
import { databasesStep } from '../databases/step.ts';
import { extensionsCheckStep, extensionsStep } from '../extensions/step.ts';
import { migrationsStep } from '../migrations/step.ts';
import { uuidv7Step } from '../uuidv7/step.ts';
import { verifyStep } from '../uuidv7/verify-step.ts';
import { initialiseStep, settingsStep, startStep } from '../cluster/step.ts';
import { nixExtensionsStep } from '../nix/step.ts';
import { seedsStep } from '../seeds/step.ts';
import type { Step } from './step.ts';
import { runSteps } from './run.ts';
import type { Project } from './project.ts';

/**
 * The pipeline, in order: what needs no server (the flake list, required extensions), the cluster,
 * databases, extensions, uuidv7(), migrations, and verification last.
 */
export const SETUP_STEPS: Step[] = [nixExtensionsStep, extensionsCheckStep, initialiseStep, settingsStep, startStep, databasesStep, extensionsStep, uuidv7Step, migrationsStep, verifyStep];

/**
 * What setup does inside a database, then its seeds: what `db:reset` runs after dropping a database, and what
 * a test template is built with (pgstrap/testing).
 */
export const DATABASE_STEPS: Step[] = [databasesStep, extensionsStep, uuidv7Step, migrationsStep, seedsStep];

/** The steps `db:start` runs: the cluster part of setup. */
export const START_STEPS: Step[] = [initialiseStep, settingsStep, startStep];

/** Runs `steps` against the project and prints the outcome; returns the exit code. */
export async function runPipeline(project: Project, steps: Step[]): Promise<{ exit: ExitCode; reports: StepReport[] }> {
  const { config, target, output } = project;
  output.say(`pgstrap: ${describeEngine(target)} (${target.choice})`);
  const reports = await runSteps(steps, { config, target, reports: [] }, output.mode);
  if (output.mode === 'json') output.json({ ok: true, engine: describeEngine(target), changed: !nothingChanged(reports), steps: reports });
  else output.say(summaryLine(reports));
  return { exit: ExitCode.ok, reports };
}
