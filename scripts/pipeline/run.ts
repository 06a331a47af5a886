/** Runs steps as a listr2 task list: live on a terminal, a line per step off one, silent for --json. */
import { isPgstrapError, PgstrapError } from '../shared/errors.ts';
import { toReport, type StepReport } from './report.ts';
import { redactSecrets } from '../shared/secrets.ts';
import { Sessions } from '../server/connection.ts';
import { connectionFor } from '../server/target.ts';
import type { RunContext, Step } from './step.ts';
import type { OutputMode } from '../shared/output.ts';

/** A short suffix for a finished step's title. */
function outcomeSuffix(report: StepReport): string {
  if (report.status === 'skipped') return '';
  if (report.changes.length === 0 && report.handedOff.length > 0) return report.handedOff.length === 1 ? `: ${report.handedOff[0]}` : `: ran ${report.handedOff.length} commands`;
  if (report.changes.length === 0) return report.status === 'warning' ? ' (warning)' : ` (${report.verdict ?? 'up to date'})`;
  if (report.changes.length === 1) return `: ${report.changes[0]}`;
  return `: ${report.changes.length} changes`;
}

/** How a list of steps uses its connections. */
export interface SessionOptions {
  /**
   * Databases to connect to before the first step, side by side with loading the task list and the steps that
   * need no server: a warm run then finds its sessions open (each connect costs a backend's start, about 20 ms
   * here). Only databases known to exist, on a server known to run (see earlySessions).
   */
  early?: readonly string[];
  /** The process ends with the run (the CLI): say goodbye without waiting for the backends to exit (Sessions.releaseAll). */
  endsProcess?: boolean;
}

/** Runs `fn` with the run's sessions: the ones `given` brings, or one per database opened here and closed after. */
async function withRunSessions<T>(given: Omit<RunContext, 'log'>, options: SessionOptions, fn: (ctx: Omit<RunContext, 'log'>) => Promise<T>): Promise<T> {
  if (given.sessions !== undefined) {
    given.sessions.prepare(options.early ?? []);
    return fn(given);
  }
  const sessions = new Sessions((database) => connectionFor(given.target, database));
  sessions.prepare(options.early ?? []);
  try {
    return await fn({ ...given, sessions });
  } finally {
    await (options.endsProcess ? sessions.releaseAll() : sessions.closeAll());
  }
}

/**
 * Runs one step: its skip check, then the step, timed. Its report joins `ctx.reports` before the next
 * step runs (the start step reads there whether the settings step asked for a restart).
 */
async function runStep(step: Step, ctx: Omit<RunContext, 'log'>, log: (line: string) => void): Promise<StepReport> {
  const reason = step.skip?.({ ...ctx, log });
  if (reason) {
    const report = toReport(step.id, step.title, { status: 'skipped', notes: [reason] });
    ctx.reports.push(report);
    return report;
  }
  const started = performance.now();
  const report = toReport(step.id, step.title, await step.run({ ...ctx, log }), performance.now() - started);
  ctx.reports.push(report);
  return report;
}

/**
 * A cluster the run made is on disk before the run ends: initdb's flush to disk runs beside the steps after
 * it (Cluster.initialise), and is waited for here.
 */
async function flushed(target: RunContext['target']): Promise<void> {
  if (target.kind !== 'external') await target.cluster.synced();
}

/** Runs `steps` in order without a renderer, each line a step logs going to `log`; stops at the first error. */
export async function runStepsPlain(steps: readonly Step[], given: Omit<RunContext, 'log'>, log: (line: string) => void = () => {}): Promise<StepReport[]> {
  return withRunSessions(given, {}, async (ctx) => {
    for (const step of steps) await runStep(step, ctx, log);
    await flushed(ctx.target);
    return ctx.reports;
  });
}

/** Runs `steps` in order; stops at the first error, which is rethrown for the CLI to render. */
export async function runSteps(steps: readonly Step[], given: Omit<RunContext, 'log'>, mode: OutputMode, sessions: SessionOptions = {}): Promise<StepReport[]> {
  return withRunSessions(given, sessions, async (ctx) => {
    const reports = await runStepList(steps, ctx, mode);
    await flushed(ctx.target);
    return reports;
  });
}

async function runStepList(steps: readonly Step[], ctx: Omit<RunContext, 'log'>, mode: OutputMode): Promise<StepReport[]> {
  const reports: StepReport[] = ctx.reports;
  // Loaded on first use, so commands that never run steps (doctor, env, status) do not pay for it.
  const { Listr } = await import('listr2');
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_: unknown, task: { title: string; output: string; skip: (message?: string) => void }) => {
        const logged = new Set<string>();
        const log = (line: string) => {
          logged.add(line);
          task.output = redactSecrets(line);
        };
        const report = await runStep(step, ctx, log).catch((error: unknown) => {
          // listr2 prints a failed task's message itself, before the CLI renders the error.
          if (error instanceof Error) error.message = redactSecrets(error.message);
          throw error;
        });
        if (report.status === 'skipped') {
          const reason = report.notes[0]!;
          // The terminal renderer shows the skip message in place of the title; the plain one prints both.
          task.skip(mode === 'tasks' ? `${step.title} (skipped: ${reason})` : reason);
          return;
        }
        // A step may have logged its plan in the very words of its changes; show each line once.
        const unseen = report.changes.length > 1 ? report.changes.filter((c) => !logged.has(c)) : [];
        const lines = [...unseen, ...report.handedOff, ...report.notes.map((n) => `note: ${n}`)];
        if (lines.length > 0) task.output = redactSecrets(lines.join('\n'));
        task.title = redactSecrets(`${step.title}${outcomeSuffix(report)}`);
      },
      rendererOptions: { persistentOutput: true },
    })),
    {
      renderer: mode === 'json' ? 'silent' : mode === 'tasks' ? 'default' : 'simple',
      fallbackRenderer: 'simple',
      exitOnError: true,
      registerSignalListeners: false,
      rendererOptions: { showErrorMessage: false, collapseErrors: true },
    },
  );
  try {
    await list.run();
  } catch (error) {
    throw withEarlierChanges(error, reports);
  }
  return reports;
}

/** A step's error with what the steps before it changed in this run, so that nobody reads it as "nothing happened". */
function withEarlierChanges(error: unknown, reports: readonly StepReport[]): unknown {
  if (!isPgstrapError(error)) return error;
  const done = reports.flatMap((r) => r.changes);
  const details = done.length === 0 ? ['before this step, this run changed nothing'] : ['before this step, this run had (kept):', ...done.map((c) => `  ${c}`)];
  return new PgstrapError({ code: error.code, message: error.message, details: [...error.details, ...details], remedy: error.remedy, exit: error.exit, cause: error.cause ?? error });
}
