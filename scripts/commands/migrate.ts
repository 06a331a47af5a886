/** `migrate`, `migrate:status`, `migrate:new`, `migrate:down`: thin bindings over scripts/migrations/. */
import path from 'node:path';
import { loadConfig } from '../config/load.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { driftDetected } from '../migrations/errors.ts';
import { checkResolutions, type Resolutions } from '../migrations/resolve.ts';
import { describeEngine, type Target } from '../server/target.ts';
import { readAppMigratorStatus } from '../migrations/command.ts';
import { dryRunJson, planDryRun, renderDryRun, renderStatus, summariseStatus } from '../migrations/render.ts';
import { createMigrationFile } from '../migrations/files.ts';
import { getMigrationStatus, planRevert, type DatabaseMigrationStatus } from '../migrations/runner.ts';
import { createMigrationsStep, createRevertStep } from '../migrations/step.ts';
import { errorJson } from '../shared/render-error.ts';
import { withTargetLock } from '../server/project-lock.ts';
import { openProject, outputOf, selectDatabases, type CommonOptions, type Project } from '../pipeline/project.ts';
import { runPipeline } from '../pipeline/steps.ts';

/** The flags of the migrate commands. */
export interface MigrateFlags extends Resolutions {
  dryRun?: boolean | undefined;
  /** Only this database. */
  database?: string | undefined;
  /** Seconds to wait for another runner's lock. */
  lockTimeout?: string | undefined;
}

function usage(message: string, remedy: string): PgstrapError {
  return new PgstrapError({ code: 'usage', message, remedy, exit: ExitCode.usage });
}

function lockTimeoutSeconds(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (!Number.isFinite(seconds) || seconds < 0) throw usage(`--lock-timeout ${value}: not a number of seconds`, 'Pass e.g. --lock-timeout 600.');
  return seconds;
}

/** The project narrowed to the databases the flags select. */
async function openForMigrations(options: CommonOptions, flags: MigrateFlags): Promise<Project> {
  const project = await openProject(options);
  const databases = selectDatabases(project.target, flags.database);
  return { ...project, target: { ...project.target, databases } as Target };
}

/** `npm run migrate`: applies pending migrations (and runs migrations.command); `--dry-run` prints the plan. */
export async function migrateCommand(options: CommonOptions, flags: MigrateFlags): Promise<ExitCode> {
  const project = await openForMigrations(options, flags);
  const resolutions = { accept: flags.accept, retry: flags.retry };
  const needsStatus = flags.dryRun || (flags.accept?.length ?? 0) > 0 || (flags.retry?.length ?? 0) > 0;
  const statuses = needsStatus ? await getMigrationStatus(project.target) : [];
  // A mistyped version must change nothing, so flags are checked against every database before any runs.
  const flagError = needsStatus ? checkResolutions(statuses.flatMap((s) => s.drifted), resolutions) : undefined;
  if (flagError) throw flagError;
  if (flags.dryRun) return printDryRun(project, statuses, resolutions);
  const step = createMigrationsStep({ ...resolutions, lockTimeoutSeconds: lockTimeoutSeconds(flags.lockTimeout) });
  return withTargetLock(project.target, 'migrate', project.output, async () => (await runPipeline(project, [step], { writes: 'migrate', endsProcess: true })).exit);
}

function printDryRun(project: Project, statuses: DatabaseMigrationStatus[], flags: Resolutions): ExitCode {
  const plans = planDryRun(statuses, project.target.databases, flags);
  const blocked = plans.find((p) => p.remaining.length > 0);
  const blockedError = blocked ? driftDetected(blocked.status.database, blocked.remaining) : undefined;
  if (project.output.mode === 'json') {
    // One document: the plan and, when drift would stop the run, the error.
    project.output.json({ ok: blockedError === undefined, ...(blockedError ? { error: errorJson(blockedError) } : {}), dryRun: true, databases: dryRunJson(plans) });
  } else {
    project.output.say([`pgstrap: ${describeEngine(project.target)} (dry run: nothing is applied)`, ...renderDryRun(plans)].join('\n'));
    if (blockedError) throw blockedError;
  }
  return blockedError ? blockedError.exit : ExitCode.ok;
}

/**
 * `npm run migrate:status`: applied, pending and drifted per database, and the app's migrator's own status
 * where migrations.statusCommand names it; exit 6 when anything is pending or drifted or that command fails.
 */
export async function migrateStatusCommand(options: CommonOptions, flags: MigrateFlags): Promise<ExitCode> {
  const project = await openForMigrations(options, flags);
  const statuses = await getMigrationStatus(project.target);
  const apps = await Promise.all(project.target.databases.map((db) => readAppMigratorStatus(project.target, db)));
  const appOf = (name: string) => apps[project.target.databases.findIndex((d) => d.name === name)];
  const summary = summariseStatus(statuses, apps);
  const { upToDate } = summary;
  if (project.output.mode === 'json') {
    project.output.json({ ok: true, upToDate: upToDate && summary.appUnknown ? null : upToDate, databases: statuses.map((s) => ({ ...s, appMigrator: appOf(s.database) ?? null })) });
  } else {
    project.output.say(renderStatus(statuses, appOf, summary, project.config.projectDir).join('\n'));
  }
  return upToDate ? ExitCode.ok : ExitCode.pending;
}

/** `npm run migrate:new <name>`: creates the next migration file. */
export async function migrateNewCommand(options: CommonOptions, flags: MigrateFlags, words: string[]): Promise<ExitCode> {
  if (words.length === 0) throw usage('migrate:new needs a name', 'Run e.g. `npm run migrate:new create_users`.');
  // Only the config is needed: creating a file must work before any server exists.
  const config = await loadConfig({ cwd: options.cwd ?? process.cwd(), explicitPath: options.config });
  let directory = config.migrations.directory;
  if (flags.database !== undefined) {
    const db = config.databases.find((d) => d.name === flags.database);
    if (!db) throw usage(`--database ${flags.database}: not one of ${config.databases.map((d) => d.name).join(', ')}`, 'Name a database from the config.');
    directory = db.migrations.directory;
  }
  const file = createMigrationFile(directory, words.join(' '));
  const output = outputOf(options);
  if (output.mode === 'json') output.json({ ok: true, file });
  else output.say(`Created ${path.relative(process.cwd(), file)}`);
  return ExitCode.ok;
}

/** `npm run migrate:down`: reverts the last applied migration with its down section; `--dry-run` names it. */
export async function migrateDownCommand(options: CommonOptions, flags: MigrateFlags): Promise<ExitCode> {
  const project = await openForMigrations(options, flags);
  if (!flags.dryRun) {
    const step = createRevertStep({ lockTimeoutSeconds: lockTimeoutSeconds(flags.lockTimeout) });
    return withTargetLock(project.target, 'migrate:down', project.output, async () => (await runPipeline(project, [step], { writes: 'migrate:down', endsProcess: true })).exit);
  }
  const plans: Array<{ database: string; revert: string | null; statements: number }> = [];
  for (const db of project.target.databases) {
    const file = db.migrations.builtIn ? await planRevert(project.target, db) : undefined;
    plans.push({ database: db.name, revert: file?.path ?? null, statements: file?.down?.length ?? 0 });
  }
  if (project.output.mode === 'json') project.output.json({ ok: true, dryRun: true, databases: plans });
  else {
    for (const p of plans) {
      project.output.say(p.revert ? `${p.database}: would revert ${p.revert} (${p.statements} statement${p.statements === 1 ? '' : 's'} in its down section)` : `${p.database}: no migration is applied`);
    }
  }
  return ExitCode.ok;
}
