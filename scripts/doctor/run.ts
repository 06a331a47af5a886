/** One doctor pass (gather, evaluate, add up), and `--fix`: repair what is safe, then check again. */
import { evaluateDoctor } from './evaluate.ts';
import { repairsOf, summarise, type Check, type DoctorSummary, type Repair } from './model.ts';
import type { StepReport } from '../pipeline/report.ts';
import type { Output } from '../shared/output.ts';
import { withTargetLock } from '../server/project-lock.ts';
import { gatherFacts, type Gathered, type GatherOptions } from './gather.ts';

/** One doctor pass: facts gathered, checks evaluated and added up. */
export interface DoctorRun {
  gathered: Gathered;
  checks: Check[];
  summary: DoctorSummary;
}

/** What --fix did over all its rounds. */
export interface FixReport {
  repairs: Repair[];
  /** One line per change: file modes tightened, and each step's changes. */
  changes: string[];
  steps: StepReport[];
  /** The error that stopped the fixes, if one did. */
  error: unknown;
}

/** Gathers and evaluates once; the library entry point the command, the tests and the benchmark call. */
export async function runDoctor(options: GatherOptions, strict = false): Promise<DoctorRun> {
  const gathered = await gatherFacts(options);
  const { checks, skipped } = evaluateDoctor(gathered.facts);
  return { gathered, checks, summary: summarise(checks, skipped, strict) };
}

/**
 * Applies the safe repairs `first` asks for and checks again; repeats while the new pass asks for repairs not
 * tried yet (a stopped cluster hides the database checks, so starting it can reveal a missing extension).
 */
export async function fixAndRecheck(
  options: GatherOptions,
  first: DoctorRun,
  strict: boolean,
  output: Output,
): Promise<{ result: DoctorRun; fixed: FixReport | undefined }> {
  let result = first;
  let fixed: FixReport | undefined;
  for (let round = 0; round < 3; round += 1) {
    const { config, target } = result.gathered;
    const repairs = repairsOf(result.checks).filter((r) => !fixed?.repairs.includes(r));
    if (repairs.length === 0 || !config || !target || fixed?.error !== undefined) break;
    output.say(`Fixing: ${repairs.join(', ')}`);
    // Loaded only here: the setup steps bring listr2 and the step modules, which a plain doctor run does not need.
    const { applyRepairs } = await import('./fix.ts');
    const outcome = await withTargetLock(target, 'doctor --fix', output, () => applyRepairs(repairs, config, target, output.mode));
    for (const change of outcome.changes) output.say(`  ${change}`);
    fixed = {
      repairs: [...(fixed?.repairs ?? []), ...repairs],
      changes: [...(fixed?.changes ?? []), ...outcome.changes, ...outcome.reports.flatMap((r) => r.changes)],
      steps: [...(fixed?.steps ?? []), ...outcome.reports],
      error: outcome.error,
    };
    result = await runDoctor(options, strict);
  }
  return { result, fixed };
}
