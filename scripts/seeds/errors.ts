/** The errors seeding raises: a failed statement is named by file, line and column, as migrations do. */
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { describeStatementFailure, resourceShortage, type ServerError } from '../migrations/errors.ts';
import type { SeedSource } from './source.ts';

/** A statement of a seed file failed: its transaction rolled back; the files before it stay applied. */
export function seedFailed(seed: SeedSource, index: number, database: string, server: ServerError, applied: readonly string[]): PgstrapError {
  const { message, details } = describeStatementFailure(seed.path, seed.text, seed.statements[index]!, server);
  const shortage = resourceShortage(server);
  details.push(`statement ${index + 1} of ${seed.statements.length} in database ${database}`);
  details.push('nothing of this file was applied: its transaction rolled back');
  if (applied.length > 0) details.push(`applied before it (kept): ${applied.join(', ')}`);
  return new PgstrapError({
    code: 'seed.failed',
    message,
    details,
    remedy: shortage
      ? `Nothing is wrong with ${seed.path}: ${shortage}; then run \`pgstrap db:seed\` again.`
      : `Fix ${seed.path} and run \`pgstrap db:seed\` (or \`pgstrap db:reset\` to start from an empty database).`,
    exit: ExitCode.database,
  });
}

/** A seeds folder the config names is missing. */
export function seedsFolderMissing(key: string, shown: string): PgstrapError {
  return new PgstrapError({
    code: 'seed.no-directory',
    message: `${key} names ${shown}, which does not exist or is not a folder`,
    remedy: 'Fix the path in the config, or create the folder with a first .sql file.',
    exit: ExitCode.usage,
  });
}
