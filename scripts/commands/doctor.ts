/** `npm run doctor`: every check, grouped, each with the command that fixes it; `--fix` applies the safe ones. */
import { ExitCode } from '../shared/errors.ts';
import { redactSecrets } from '../shared/secrets.ts';
import type { GatherOptions } from '../doctor/gather.ts';
import { fixAndRecheck, runDoctor } from '../doctor/run.ts';
import { renderDoctor } from '../doctor/render.ts';
import { errorJson, renderError } from '../shared/render-error.ts';
import { outputMode, useColour } from '../shared/output.ts';
import { printJson } from '../pipeline/project.ts';

/** doctor's own flags. */
export interface DoctorFlags {
  /** Apply the safe fixes, then check again. */
  fix: boolean;
  /** Warnings fail too. */
  strict: boolean;
}

/** Runs the checks (fixing what is safe with --fix), prints the report, returns 0 healthy or 1. */
export async function doctorCommand(options: GatherOptions, flags: DoctorFlags): Promise<ExitCode> {
  const mode = outputMode(options);
  const log = (line: string) => {
    if (mode !== 'json') process.stdout.write(`${line}\n`);
  };
  const first = await runDoctor(options, flags.strict);
  const { result, fixed } = flags.fix ? await fixAndRecheck(options, first, flags.strict, mode, log) : { result: first, fixed: undefined };
  if (fixed?.error !== undefined) log(renderError(fixed.error));
  if (fixed) log('Checked again after the fixes:');
  const { checks, summary } = result;
  if (mode === 'json') {
    const json = checks.map(({ repair, ...c }) => ({
      ...c,
      message: redactSecrets(c.message),
      details: c.details.map(redactSecrets),
      fix: c.fix === undefined ? null : redactSecrets(c.fix),
      fixable: repair !== undefined,
    }));
    const fixes = fixed && { ...fixed, error: fixed.error === undefined ? undefined : errorJson(fixed.error) };
    printJson({ ok: summary.healthy, checks: json, summary, ...(fixes ? { fixed: fixes } : {}) });
  } else {
    process.stdout.write(`${redactSecrets(renderDoctor(checks, summary, { colour: useColour(process.stdout), strict: flags.strict }))}\n`);
  }
  return summary.exit;
}
