/** `pgstrap env`: the variables a client needs for the project's cluster (or the --url server), as shell exports, a .env file or JSON. */
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { environmentForUrl, withDatabase } from '../server/database-url.ts';
import { clientEnvironment, renderDotenv, renderExports } from '../server/client-env.ts';
import type { ExternalTarget, ManagedPlace, Target } from '../server/target.ts';
import { type CommonOptions, openPlace, selectDatabases } from '../pipeline/project.ts';

/** The formats `--format` takes. */
export const ENV_FORMATS = ['shell', 'dotenv', 'json'] as const;
export type EnvFormat = (typeof ENV_FORMATS)[number];

/** PG* variables for an external URL; the password stays inside DATABASE_URL, out of the shell's variables. */
function externalEnvironment(target: ExternalTarget, database: string): Record<string, string> {
  const { PGPASSWORD: _password, ...vars } = environmentForUrl(withDatabase(target.url, database));
  return vars;
}

/** The variables for `database` on the target (its first database by default); `socket`: DATABASE_URL through the project's socket. */
export function environmentFor(target: Target | ManagedPlace, database: string | undefined, options: { socket?: boolean | undefined } = {}): Record<string, string> {
  const name = selectDatabases(target, database)[0]!.name;
  if (target.kind === 'external') {
    if (options.socket) {
      throw new PgstrapError({
        code: 'usage',
        message: '--socket is for the project\'s cluster: a server by URL is reached as its URL says',
        remedy: 'Leave out --socket, or --url and PGSTRAP_URL.',
        exit: ExitCode.usage,
      });
    }
    return externalEnvironment(target, name);
  }
  return clientEnvironment(target.layout, target.config, name, options);
}

function formatOf(value: string | undefined, json: boolean | undefined): EnvFormat {
  if (value === undefined) return json ? 'json' : 'shell';
  if (!(ENV_FORMATS as readonly string[]).includes(value)) {
    throw new PgstrapError({ code: 'usage', message: `--format must be one of ${ENV_FORMATS.join(', ')}, got "${value}"`, remedy: 'e.g. `pgstrap env --format dotenv > .env`.', exit: ExitCode.usage });
  }
  return value as EnvFormat;
}

/** Prints the variables in the chosen format. */
export async function envCommand(
  options: CommonOptions,
  flags: { database?: string | undefined; format?: string | undefined; socket?: boolean | undefined } = {},
): Promise<ExitCode> {
  const format = formatOf(flags.format, options.json);
  const { target, output } = await openPlace(options);
  const vars = environmentFor(target, flags.database, { socket: flags.socket });
  if (output.mode === 'json') output.json(vars);
  else if (format === 'json') output.say(JSON.stringify(vars, null, 2));
  else output.say(format === 'dotenv' ? renderDotenv(vars) : renderExports(vars));
  return ExitCode.ok;
}
