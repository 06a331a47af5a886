/** `npm run --silent env`: shell exports for the project's cluster (or the --url server). */
import { ExitCode } from '../shared/errors.ts';
import { environmentForUrl, withDatabase } from '../server/database-url.ts';
import { clientEnvironment, renderExports } from '../server/client-env.ts';
import type { Target } from '../server/target.ts';
import { openProject, type CommonOptions } from '../pipeline/project.ts';

/** PG* variables for an external URL; the password stays inside DATABASE_URL, out of the shell's variables. */
function externalEnvironment(target: Extract<Target, { kind: 'external' }>): Record<string, string> {
  const { PGPASSWORD: _password, ...vars } = environmentForUrl(withDatabase(target.url, target.databases[0]!.name));
  return vars;
}

/** Prints `export` lines (or JSON with --json). */
export async function envCommand(options: CommonOptions): Promise<ExitCode> {
  const { target, config, output } = await openProject(options);
  const vars = target.kind === 'external' ? externalEnvironment(target) : clientEnvironment(target.layout, config);
  if (output.mode === 'json') output.json(vars);
  else output.say(renderExports(vars));
  return ExitCode.ok;
}
