/** `pgstrap psql [--database NAME] [-- args]`: a psql that fits the server, with the environment `env` prints. */
import { spawn } from 'node:child_process';
import { ExitCode } from '../shared/errors.ts';
import { environmentForUrl, withDatabase } from '../server/database-url.ts';
import { SERVER_VERSION, toServerVersion, withClient } from '../server/connection.ts';
import { requirePsql } from '../server/psql.ts';
import { connectionFor, type Target } from '../server/target.ts';
import { type CommonOptions, openProject, selectDatabases } from '../pipeline/project.ts';
import { environmentFor } from './env.ts';

/** The server's major: the managed binaries', or what an external server reports. */
async function serverMajor(target: Target, database: string): Promise<number> {
  if (target.kind !== 'external') return target.binaries.major;
  return withClient(connectionFor(target, database), async (c) => toServerVersion((await c.query(SERVER_VERSION.text)).rows).major);
}

/** Runs psql with the terminal attached; exits with its exit code. */
export async function psqlCommand(options: CommonOptions, flags: { database?: string | undefined; args: string[] }): Promise<number> {
  const { target, output } = await openProject(options);
  const database = selectDatabases(target, flags.database)[0]!.name;
  const major = await serverMajor(target, database);
  const psql = await requirePsql(major, target.kind === 'external' ? undefined : target.binaries.binDir);
  // An external server's password goes to psql's environment only (never printed); `env` leaves it in DATABASE_URL.
  const vars = target.kind === 'external' ? environmentForUrl(withDatabase(target.url, database)) : environmentFor(target, database);
  if (output.mode !== 'json') output.error(`pgstrap: ${psql.path} (psql ${psql.version}, ${psql.origin}) on database ${database}`);
  const child = spawn(psql.path, flags.args, { stdio: 'inherit', env: { ...process.env, ...vars } });
  // psql handles Ctrl-C itself (it cancels the query); pgstrap waits for it.
  const ignore = () => {};
  process.on('SIGINT', ignore);
  try {
    return await new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code, signal) => resolve(code ?? (signal ? 128 + 2 : ExitCode.failure)));
    });
  } finally {
    process.off('SIGINT', ignore);
  }
}
