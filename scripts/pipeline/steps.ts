/**
 * The one list of setup steps, and running a list of them against a project: what setup, db:start, verify,
 * migrate and doctor --fix share.
 */
import { ExitCode } from '../shared/errors.ts';
import { nothingChanged, summaryLine, type StepReport } from './report.ts';
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
import { Sessions } from '../server/connection.ts';
import { assertWritable, readRoleFacts } from '../server/read-privileges.ts';
import { connectionFor, describeEngine, maintenanceDatabase, type Target } from '../server/target.ts';

/**
 * Runs `fn` with the run's sessions; where `verb` writes to an external server, first asks it (one round trip on
 * the maintenance session the steps go on to use) whether it takes writes, and refuses before any step when not.
 */
async function withWritableSessions<T>(target: Target, verb: string | undefined, endsProcess: boolean, fn: (sessions: Sessions | undefined) => Promise<T>): Promise<T> {
  if (verb === undefined || target.kind !== 'external') return fn(undefined);
  const sessions = new Sessions((database) => connectionFor(target, database));
  try {
    // setup may create the databases and db:reset drops them, so they ask the maintenance database; the others work
    // in existing ones and ask the first, on the session they go on to use.
    const database = verb === 'setup' || verb === 'db:reset' ? maintenanceDatabase(target) : target.databases[0]!.name;
    const role = await sessions.with(database, (client) => readRoleFacts(client, target.databases.map((d) => d.name)));
    assertWritable(target, role, verb);
    return await fn(sessions);
  } finally {
    await (endsProcess ? sessions.releaseAll() : sessions.closeAll());
  }
}

/**
 * The databases a run may connect to before its first step: every configured one on a server that already
 * runs (a server reached by URL, or the project's cluster with a live postmaster). None on a cluster this run
 * will create or start: connecting to a database that does not exist yet would log an error in its log.
 */
export function earlySessions(target: Target): string[] {
  if (target.kind !== 'external' && !target.cluster.status().running) return [];
  return target.databases.map((d) => d.name);
}

/** How a command runs its pipeline (beyond its steps). */
export interface PipelineOptions {
  /** The command's name when it writes: a server that takes no writes is refused before any step. */
  writes?: string | undefined;
  /** Connect to the databases before the first step (earlySessions): setup, which works in all of them. */
  connectEarly?: boolean;
  /** The process ends with the run (a CLI command): sessions say goodbye without waiting for the backends. */
  endsProcess?: boolean;
}

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

/**
 * Runs `steps` against the project and prints the outcome; returns the exit code. `options.writes` (the
 * command's name) first refuses a server that takes no writes (a standby, a read-only role), on the session
 * the steps then use.
 */
export async function runPipeline(project: Project, steps: Step[], options: PipelineOptions = {}): Promise<{ exit: ExitCode; reports: StepReport[] }> {
  const { config, target, output } = project;
  output.say(`pgstrap: ${describeEngine(target)} (${target.choice})`);
  const sessionOptions = { early: options.connectEarly ? earlySessions(target) : [], endsProcess: options.endsProcess === true };
  const reports = await withWritableSessions(target, options.writes, sessionOptions.endsProcess, (sessions) =>
    runSteps(steps, { config, target, reports: [], sessions }, output.mode, sessionOptions),
  );
  if (output.mode === 'json') output.json({ ok: true, engine: describeEngine(target), changed: !nothingChanged(reports), steps: reports });
  else output.say(summaryLine(reports));
  return { exit: ExitCode.ok, reports };
}
