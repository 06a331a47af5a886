/** `npm run setup`: the whole pipeline, each step idempotent. */
import type { ExitCode } from '../shared/errors.ts';
import { withProject, type CommonOptions } from '../pipeline/project.ts';
import { runPipeline, SETUP_STEPS } from '../pipeline/steps.ts';

/** `setup`: cluster, databases, extensions, uuidv7(), migrations, verification. */
export async function setupCommand(options: CommonOptions): Promise<ExitCode> {
  // A read-only server (a standby, a read-only role) is refused before any step changes anything.
  return withProject(options, 'setup', async (project) => (await runPipeline(project, SETUP_STEPS, { writes: 'setup', connectEarly: true, endsProcess: true })).exit);
}
