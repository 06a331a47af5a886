/** `npm run doctor`: every check, grouped, each with the command that fixes it; `--fix` applies the safe ones. */
import { evaluateDoctor } from '../core/doctor/evaluate.ts';
import { repairsOf, summarise, type Check, type DoctorSummary, type Repair } from '../core/doctor/model.ts';
import { ExitCode } from '../core/errors.ts';
import { gatherFacts, type Gathered, type GatherOptions } from '../doctor/gather.ts';
import { errorJson, renderError } from '../ui/errors.ts';
import { renderDoctor } from '../ui/doctor.ts';
import { outputMode, useColour } from '../ui/output.ts';
import { printJson } from './options.ts';

/** doctor's own flags. */
export interface DoctorFlags {
  /** Apply the safe fixes, then check again. */
  fix: boolean;
  /** Warnings fail too. */
  strict: boolean;
}

/** One doctor pass: facts gathered, checks evaluated and added up. */
export interface DoctorRun {
  gathered: Gathered;
  checks: Check[];
  summary: DoctorSummary;
}

/** Gathers and evaluates once; the library entry point tests and the benchmark call. */
export async function runDoctor(options: GatherOptions, strict = false): Promise<DoctorRun> {
  const gathered = await gatherFacts(options);
  const { checks, skipped } = evaluateDoctor(gathered.facts);
  return { gathered, checks, summary: summarise(checks, skipped, strict) };
}

/** Runs the checks (fixing what is safe with --fix), prints the report, returns 0 healthy or 1. */
export async function doctorCommand(options: GatherOptions, flags: DoctorFlags): Promise<ExitCode> {
  const mode = outputMode(options);
  let result = await runDoctor(options, flags.strict);
  let fixed: { repairs: Repair[]; changes: string[]; steps: unknown[]; error: unknown } | undefined;
  // A stopped cluster hides the database checks, so a repair can reveal more: repeat while new ones appear.
  for (let round = 0; flags.fix && round < 3; round += 1) {
    const { config, target } = result.gathered;
    const repairs = repairsOf(result.checks).filter((r) => !fixed?.repairs.includes(r));
    if (repairs.length === 0 || !config || !target || fixed?.error !== undefined) break;
    if (mode !== 'json') process.stdout.write(`Fixing: ${repairs.join(', ')}\n`);
    // Loaded only here: the setup steps bring listr2 and friends, which a plain doctor run does not need.
    const { applyRepairs } = await import('../doctor/fix.ts');
    const outcome = await applyRepairs(repairs, config, target, mode);
    if (mode !== 'json') {
      for (const change of outcome.changes) process.stdout.write(`  ${change}\n`);
      if (outcome.error !== undefined) process.stdout.write(`${renderError(outcome.error)}\n`);
    }
    fixed = {
      repairs: [...(fixed?.repairs ?? []), ...repairs],
      changes: [...(fixed?.changes ?? []), ...outcome.changes, ...outcome.reports.flatMap((r) => r.changes)],
      steps: [...(fixed?.steps ?? []), ...outcome.reports],
      error: outcome.error === undefined ? undefined : errorJson(outcome.error),
    };
    result = await runDoctor(options, flags.strict);
  }
  if (fixed && mode !== 'json') process.stdout.write('Checked again after the fixes:\n');
  const { checks, summary } = result;
  if (mode === 'json') {
    printJson({ ok: summary.healthy, checks: checks.map(({ repair, ...c }) => ({ ...c, fix: c.fix ?? null, fixable: repair !== undefined })), summary, ...(fixed ? { fixed } : {}) });
  } else {
    process.stdout.write(`${renderDoctor(checks, summary, { colour: useColour(process.stdout), strict: flags.strict })}\n`);
  }
  return summary.exit;
}
