/** `pgstrap init`: sets an existing app up for pgstrap (config, flake files, .envrc, .gitignore, npm scripts, migrations/). */
import { ExitCode } from '../shared/errors.ts';
import { processOutput } from '../shared/output.ts';
import type { CommonOptions } from '../pipeline/project.ts';
import { runInit } from '../init/apply.ts';
import { renderInitPlan } from '../init/plan.ts';

/** Runs init in the working directory; `--dry-run` prints the plan and writes nothing. */
export async function initCommand(options: CommonOptions, flags: { dryRun: boolean }): Promise<ExitCode> {
  const output = options.output ?? processOutput({ json: options.json });
  const plan = await runInit(process.cwd(), flags);
  if (output.mode === 'json') output.json({ ok: true, dryRun: flags.dryRun, actions: plan.actions.map(({ kind, file, summary }) => ({ kind, file, summary })), left: plan.left, setupScript: plan.setupScript, configFile: plan.configFile });
  else output.say(renderInitPlan(plan, flags));
  return ExitCode.ok;
}
