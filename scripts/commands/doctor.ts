/** `npm run doctor`: every check, grouped, each with the command that fixes it; `--fix` applies the safe ones. */
import { ExitCode } from '../shared/errors.ts';
import { redactSecrets } from '../shared/secrets.ts';
import type { GatherOptions } from '../doctor/gather.ts';
import { fixAndRecheck, runDoctor } from '../doctor/run.ts';
import { renderDoctor } from '../doctor/render.ts';
import { errorJson, renderError } from '../shared/render-error.ts';
import { outputOf } from '../pipeline/project.ts';

/** doctor's own flags. */
export interface DoctorFlags {
  /** Apply the safe fixes, then check again. */
  fix: boolean;
  /** Warnings fail too. */
  strict: boolean;
}

/** Runs the checks (fixing what is safe with --fix), prints the report, returns 0 healthy or 1. */
export async function doctorCommand(options: GatherOptions, flags: DoctorFlags): Promise<ExitCode> {
  const output = outputOf(options);
  const first = await runDoctor(options, flags.strict);
  const { result, fixed } = flags.fix ? await fixAndRecheck(options, first, flags.strict, output) : { result: first, fixed: undefined };
  if (fixed?.error !== undefined) output.say(renderError(fixed.error, output.colour.out));
  if (fixed) output.say('Checked again after the fixes:');
  const { checks, summary } = result;
  if (output.mode === 'json') {
    const json = checks.map(({ repair, ...c }) => ({
      ...c,
      message: redactSecrets(c.message),
      details: c.details.map(redactSecrets),
      fix: c.fix === undefined ? null : redactSecrets(c.fix),
      fixable: repair !== undefined,
    }));
    const fixes = fixed && { ...fixed, error: fixed.error === undefined ? undefined : errorJson(fixed.error) };
    output.json({ ok: summary.healthy, checks: json, summary, ...(fixes ? { fixed: fixes } : {}) });
  } else {
    output.say(redactSecrets(renderDoctor(checks, summary, { colour: output.colour.out, strict: flags.strict })));
  }
  return summary.exit;
}
