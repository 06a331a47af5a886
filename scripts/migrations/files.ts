/** Reads a migrations folder and creates new files in it. */
import fs from 'node:fs';
import path from 'node:path';
import type { ResolvedMigrations } from '../config/types.ts';
import { ExitCode, PgstrapError } from '../shared/errors.ts';
import { decodeSqlBytes } from './checksum.ts';
import { duplicateVersion, unversionedFile } from './errors.ts';
import { compareVersions, nextVersion, parseMigrationFileName, sameVersion, slugify, type MigrationName } from './naming.ts';
import { DOWN_MARKER, NO_TRANSACTION_DIRECTIVE, parseMigrationSource, type MigrationSource } from './source.ts';

/**
 * The versioned file names in `directory`, in order. A missing folder has none when it is the default
 * one; a folder the config names (`directoryKey`) must exist, or a typo would read as "nothing to do".
 */
export function listMigrationNames(directory: string, projectDir: string, directoryKey?: string): MigrationName[] {
  const shown = displayPath(directory, projectDir);
  let entries: string[];
  try {
    entries = fs.readdirSync(directory);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && directoryKey === undefined) return [];
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new PgstrapError({
        code: 'migrate.no-directory',
        message: `${directoryKey ?? 'the migrations folder'} names ${shown}, which ${code === 'ENOENT' ? 'does not exist' : 'is not a folder'}`,
        remedy: `Fix the path in the config, or create the folder (npm run migrate:new <name> creates it with a first file).`,
        exit: ExitCode.usage,
      });
    }
    throw error;
  }
  const names: MigrationName[] = [];
  for (const entry of entries) {
    if (!entry.endsWith('.sql')) continue;
    const name = parseMigrationFileName(entry);
    if (!name) throw unversionedFile(shown, entry);
    names.push(name);
  }
  names.sort((a, b) => compareVersions(a.version, b.version));
  for (let i = 1; i < names.length; i++) {
    if (sameVersion(names[i - 1]!.version, names[i]!.version)) throw duplicateVersion(shown, names[i - 1]!.fileName, names[i]!.fileName);
  }
  return names;
}

/** Reads and parses every migration in a database's migrations folder, in version order. */
export function readMigrations(migrations: Pick<ResolvedMigrations, 'directory' | 'directoryKey'>, projectDir: string): MigrationSource[] {
  const { directory, directoryKey } = migrations;
  return listMigrationNames(directory, projectDir, directoryKey).map((name) => {
    const file = path.join(directory, name.fileName);
    return parseMigrationSource(name, displayPath(file, projectDir), decodeSqlBytes(fs.readFileSync(file)));
  });
}

/** A path relative to the project, as messages show it. */
export function displayPath(file: string, projectDir: string): string {
  const relative = path.relative(projectDir, file);
  return relative.startsWith('..') ? file : relative;
}

/** The text of a new migration: a header that says how it runs, and an empty down section. */
function template(title: string): string {
  return [
    `-- ${title}`,
    '-- Runs in one transaction with its tracking row. For CREATE INDEX CONCURRENTLY or ALTER TYPE ... ADD VALUE,',
    `-- put \`${NO_TRANSACTION_DIRECTIVE}\` on the first line: the file then runs one statement at a time.`,
    '',
    '',
    '',
    `${DOWN_MARKER}`,
    '-- Optional: statements that revert the above, for `npm run migrate:down`. Leave empty if it cannot be reverted.',
    '',
  ].join('\n');
}

/** Creates `<directory>/<version>_<slug>.sql` and returns its path. */
export function createMigrationFile(directory: string, title: string, now = new Date()): string {
  const slug = slugify(title);
  if (slug === '') {
    throw new PgstrapError({
      code: 'usage',
      message: `"${title}" is no usable migration name`,
      remedy: 'Name it with letters or digits, e.g. `npm run migrate:new create_users`.',
      exit: ExitCode.usage,
    });
  }
  const version = nextVersion(now, listMigrationNames(directory, directory).map((n) => n.version));
  fs.mkdirSync(directory, { recursive: true });
  const file = path.join(directory, `${version}_${slug}.sql`);
  fs.writeFileSync(file, template(title), { flag: 'wx' });
  return file;
}
