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

/** Runs `steps` in order; stops at the first error, which is rethrown for the CLI to render. */
export async function runSteps(steps: Step[], given: Omit<RunContext, 'log'>, mode: OutputMode): Promise<StepReport[]> {
  const ownSessions = given.sessions === undefined;
  const ctx = ownSessions ? Object.assign(given, { sessions: new Sessions((database) => connectionFor(given.target, database)) }) : given;
  try {
    return await runStepList(steps, ctx, mode);
  } finally {
    if (ownSessions) await ctx.sessions!.closeAll();
  }
}

async function runStepList(steps: Step[], ctx: Omit<RunContext, 'log'>, mode: OutputMode): Promise<StepReport[]> {
  const reports: StepReport[] = ctx.reports;
  // Loaded on first use, so commands that never run steps (doctor, env, status) do not pay for it.
  const { Listr } = await import('listr2');
  const list = new Listr(
    steps.map((step) => ({
      title: step.title,
      task: async (_: unknown, task: { title: string; output: string; skip: (message?: string) => void }) => {
        const reason = step.skip?.({ ...ctx, log: () => {} });
        if (reason) {
          reports.push(toReport(step.id, step.title, { status: 'skipped', notes: [reason] }));
          // The terminal renderer shows the skip message in place of the title; the plain one prints both.
          task.skip(mode === 'tasks' ? `${step.title} (skipped: ${reason})` : reason);
          return;
        }
        const runCtx = ctx as RunContext;
        const logged = new Set<string>();
        runCtx.log = (line: string) => {
          logged.add(line);
          task.output = redactSecrets(line);
        };
        const started = performance.now();
        const outcome = await step.run(runCtx).catch((error: unknown) => {
          // listr2 prints a failed task's message itself, before the CLI renders the error.
          if (error instanceof Error) error.message = redactSecrets(error.message);
          throw error;
        });
        const report = toReport(step.id, step.title, outcome, performance.now() - started);
        reports.push(report);
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
