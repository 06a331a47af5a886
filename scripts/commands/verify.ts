/** `npm run verify`: proves uuidv7() in every managed database, without changing anything. */
import type { ExitCode } from '../shared/errors.ts';
import { verifyStep } from '../uuidv7/verify-step.ts';
import { openProject, type CommonOptions } from '../pipeline/project.ts';
import { runPipeline } from '../pipeline/steps.ts';

/** Runs the verify step on its own, with the pipeline's output (and --json). */
export async function verifyCommand(options: CommonOptions): Promise<ExitCode> {
  return (await runPipeline(await openProject(options), [verifyStep], { endsProcess: true })).exit;
}
