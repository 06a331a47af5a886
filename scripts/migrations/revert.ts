/** Which file `migrate:down` reverts: the applied one with the highest version, if it has a down section. */
import { cannotRevert } from './errors.ts';
import { compareVersions } from './naming.ts';
import type { MigrationPlan } from './plan.ts';
import type { MigrationSource } from './source.ts';

/** The file to revert in `database`, undefined when nothing is applied; throws when it cannot be reverted. */
export function fileToRevert(database: string, plan: MigrationPlan, files: readonly MigrationSource[]): MigrationSource | undefined {
  const last = [...plan.applied, ...plan.drifted].sort((a, b) => compareVersions(a.version, b.version)).at(-1);
  if (!last) return undefined;
  if ('kind' in last) {
    throw cannotRevert(
      database,
      `the last migration, ${last.version}_${last.name}, no longer matches what was applied`,
      'Run `npm run migrate:status`, and resolve the drift first (`npm run migrate -- --accept <version>`).',
    );
  }
  const file = files.find((f) => f.version === last.version)!;
  if (file.down === undefined) {
    throw cannotRevert(database, `${file.path} has no down section`, 'Add a `-- pgstrap:down` line followed by the statements that revert it, or write a new migration that undoes it.');
  }
  if (file.down.length === 0) {
    throw cannotRevert(database, `the down section of ${file.path} is empty`, 'Write the statements that revert it under `-- pgstrap:down`, or write a new migration that undoes it.');
  }
  return file;
}
