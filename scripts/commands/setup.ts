/** `npm run setup`: the whole pipeline, each step idempotent. */
import type { ExitCode } from '../shared/errors.ts';
import { withProject, type CommonOptions } from '../pipeline/project.ts';
import { runPipeline, SETUP_STEPS } from '../pipeline/steps.ts';
import { assertTargetWritable } from '../server/read-privileges.ts';

/** `setup`: cluster, databases, extensions, uuidv7(), migrations, verification. */
export async function setupCommand(options: CommonOptions): Promise<ExitCode> {
  return withProject(options, 'setup', async (project) => {
    // A read-only server (a standby, a read-only role) is refused before any step changes anything.
    await assertTargetWritable(project.target, 'setup');
    return (await runPipeline(project, SETUP_STEPS)).exit;
  });
}
