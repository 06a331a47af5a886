/** Pure migration logic: checksums that survive editors, names, directives, plans and error positions. */
import { describe, expect, it } from 'vitest';
import { decodeSqlBytes, normaliseSql, sqlChecksum } from '../../scripts/migrations/checksum.ts';
import { environmentForUrl, withDatabase } from '../../scripts/server/database-url.ts';
import { errorLines, statementFailed } from '../../scripts/migrations/errors.ts';
import { compareVersions, nextVersion, parseMigrationFileName, slugify } from '../../scripts/migrations/naming.ts';
import { planMigrations, type AppliedMigration } from '../../scripts/migrations/plan.ts';
import { lineColumn } from '../../scripts/migrations/position.ts';
import { checkResolutions } from '../../scripts/migrations/resolve.ts';
import { fileToRevert } from '../../scripts/migrations/revert.ts';
import { parseMigrationSource } from '../../scripts/migrations/source.ts';
import { PgstrapError } from '../../scripts/shared/errors.ts';

const source = (fileName: string, text: string) => parseMigrationSource(parseMigrationFileName(fileName)!, `migrations/${fileName}`, text);

describe('checksum', () => {
  const text = "CREATE TABLE café (x text DEFAULT 'é');\nSELECT 1;\n";
  const sum = sqlChecksum(text);

  it('ignores line endings, a BOM and trailing blank lines', () => {
    expect(sqlChecksum(text.replaceAll('\n', '\r\n'))).toBe(sum);
    expect(sqlChecksum(text.replaceAll('\n', '\r'))).toBe(sum);
    expect(sqlChecksum(`\uFEFF${text}\n\n  \n`)).toBe(sum);
  });

  it('ignores the encoding the file was saved in', () => {
    const utf8 = Buffer.from(text, 'utf8');
    const utf8Bom = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), utf8]);
    const utf16le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const utf16be = Buffer.from(utf16le.subarray(2)).swap16();
    const latin1 = Buffer.from(text, 'latin1');
    for (const bytes of [utf8, utf8Bom, utf16le, Buffer.concat([Buffer.from([0xfe, 0xff]), utf16be]), latin1]) {
      expect(sqlChecksum(decodeSqlBytes(bytes))).toBe(sum);
    }
  });

  it('changes when the SQL changes', () => {
    expect(sqlChecksum(text.replace('SELECT 1', 'SELECT 2'))).not.toBe(sum);
    expect(normaliseSql('a\r\nb\r\n')).toBe('a\nb');
  });
});

describe('naming', () => {
  it('parses versioned names and orders versions as numbers', () => {
    expect(parseMigrationFileName('20251025000040_create_llm_requests.sql')).toEqual({ version: '20251025000040', name: 'create_llm_requests', fileName: '20251025000040_create_llm_requests.sql' });
    expect(parseMigrationFileName('create.sql')).toBeUndefined();
    expect(['10', '9', '100'].sort(compareVersions)).toEqual(['9', '10', '100']);
  });

  it('picks a UTC timestamp, or one past a later existing version', () => {
    const now = new Date('2026-11-21T10:00:05Z');
    expect(nextVersion(now, [])).toBe('20261121100005');
    expect(nextVersion(now, ['20261121100005'])).toBe('20261121100006');
    expect(nextVersion(now, ['20240101000000'])).toBe('20261121100005');
    expect(slugify('Add  users-table!')).toBe('add_users_table');
  });
});

describe('parseMigrationSource', () => {
  it('reads the no-transaction header and the down section; the checksum covers the up section', () => {
    const m = source('1_x.sql', '-- pgstrap:no-transaction\nCREATE INDEX CONCURRENTLY i ON t (a);\n-- pgstrap:down\nDROP INDEX CONCURRENTLY i;\n');
    expect(m.transactional).toBe(false);
    expect(m.up.map((s) => s.text)).toEqual(['CREATE INDEX CONCURRENTLY i ON t (a);']);
    expect(m.down?.map((s) => s.text)).toEqual(['DROP INDEX CONCURRENTLY i;']);
    const edited = source('1_x.sql', m.text.replace('DROP INDEX CONCURRENTLY i;', 'DROP INDEX CONCURRENTLY IF EXISTS i;'));
    expect(edited.checksum).toBe(m.checksum);
  });

  it('has no down section without a marker', () => {
    expect(source('1_x.sql', 'SELECT 1;').down).toBeUndefined();
    expect(source('1_x.sql', 'SELECT 1;\n-- pgstrap:down\n').down).toEqual([]);
  });

  it('refuses a misplaced or unknown directive and transaction control in a transactional file', () => {
    expect(() => source('1_x.sql', 'SELECT 1;\n-- pgstrap:no-transaction\n')).toThrow(/1_x.sql:2:1: .*must come before/);
    expect(() => source('1_x.sql', '-- pgstrap:no-transation\nSELECT 1;')).toThrow(/unknown directive/);
    expect(() => source('1_x.sql', 'BEGIN;\nSELECT 1;\nCOMMIT;')).toThrow(/1_x.sql:1:1: "BEGIN;" controls the transaction/);
    expect(source('1_x.sql', '-- pgstrap:no-transaction\nBEGIN;\nSELECT 1;\nCOMMIT;').up).toHaveLength(3);
    expect(() => source('1_x.sql', 'SELECT 1;\nCOPY t (a) FROM stdin;\n1\n\\.\n')).toThrow(/1_x.sql:2:1: COPY ... FROM stdin needs psql/);
  });
});

describe('planMigrations', () => {
  const a = source('1_a.sql', 'SELECT 1;');
  const b = source('2_b.sql', 'SELECT 2;');
  const c = source('3_c.sql', 'SELECT 3;');
  const row = (m: { version: string; name: string; checksum: string }, extra: Partial<AppliedMigration> = {}): AppliedMigration => ({
    version: m.version, name: m.name, checksum: m.checksum, transactional: true, state: 'applied', statementsDone: 1, statementsTotal: 1,
    appliedAt: '2026-01-01T00:00:00.000Z', durationMs: 1, appliedBy: 'me@here', ...extra,
  });

  it('sorts files into applied, pending and drifted', () => {
    const plan = planMigrations([c, b, a], [row(a), row({ ...b, checksum: 'old' }), row({ version: '0', name: 'gone', checksum: 'x' })]);
    expect(plan.applied.map((m) => m.version)).toEqual(['1']);
    expect(plan.pending.map((m) => m.version)).toEqual(['3']);
    expect(plan.drifted.map((d) => [d.kind, d.version])).toEqual([['missing', '0'], ['edited', '2']]);
  });

  it('reports a non-transactional file that stopped half way', () => {
    const plan = planMigrations([a], [row(a, { state: 'running', statementsDone: 0, transactional: false })]);
    expect(plan.drifted).toEqual([{ kind: 'half-applied', version: '1', name: 'a', statementsDone: 0, statementsTotal: 1, inProgress: false }]);
  });

  it('checks --accept and --retry against the drift', () => {
    const drifted = planMigrations([a], [row({ ...a, checksum: 'old' })]).drifted;
    expect(checkResolutions(drifted, { accept: ['1'] })).toBeUndefined();
    expect(checkResolutions(drifted, { accept: ['2'] })?.code).toBe('migrate.nothing-to-accept');
    expect(checkResolutions(drifted, { retry: ['1'] })?.code).toBe('migrate.nothing-to-retry');
  });

  it('reverts the highest applied version only when it has a down section', () => {
    const withDown = source('4_d.sql', 'SELECT 4;\n-- pgstrap:down\nSELECT 5;');
    expect(fileToRevert('app', planMigrations([a, withDown], [row(a), row(withDown)]), [a, withDown])?.version).toBe('4');
    expect(() => fileToRevert('app', planMigrations([a], [row(a)]), [a])).toThrow(/has no down section/);
    expect(fileToRevert('app', planMigrations([a], []), [a])).toBeUndefined();
  });
});

describe('statementFailed', () => {
  it('names file, line and column, and draws a caret under the error', () => {
    const m = source('7_t.sql', 'CREATE TABLE a (x int);\nCREATE TABLE b (\n  id uuid DEFAULT uuidv8()\n);\n');
    const statement = m.up[1]!;
    const error = statementFailed(
      { source: m, statement, index: 1, total: 2, direction: 'up', database: 'app' },
      { message: 'function uuidv8() does not exist', code: '42883', position: String(statement.text.indexOf('uuidv8') + 1), hint: 'No function matches.' },
    );
    expect(error).toBeInstanceOf(PgstrapError);
    expect(error.message).toBe('migrations/7_t.sql:3:19: function uuidv8() does not exist (42883)');
    expect(error.details.slice(0, 5)).toEqual(['2 | CREATE TABLE b (', '3 |   id uuid DEFAULT uuidv8()', '  |                   ^', '4 | );', 'hint: No function matches.']);
    expect(error.details).toContain('nothing of this file was applied: its transaction rolled back; earlier files stay applied');
  });

  it('counts columns in characters, as PostgreSQL does', () => {
    expect(lineColumn('a\n😀b', 5)).toEqual({ line: 2, column: 3 });
  });
});

describe('environmentForUrl', () => {
  it('gives the app migrator DATABASE_URL and PG* for one database, password and sslmode included', () => {
    const url = withDatabase(new URL('postgresql://deploy:p%40ss%3Aword@db.example.com:6432/postgres?sslmode=require'), 'app_test');
    expect(environmentForUrl(url)).toEqual({
      DATABASE_URL: 'postgresql://deploy:p%40ss%3Aword@db.example.com:6432/app_test?sslmode=require',
      PGHOST: 'db.example.com',
      PGPORT: '6432',
      PGDATABASE: 'app_test',
      PGUSER: 'deploy',
      PGPASSWORD: 'p@ss:word',
      PGSSLMODE: 'require',
    });
    expect(environmentForUrl(new URL('postgres://[::1]/app'))).toMatchObject({ PGHOST: '::1', PGPORT: '5432', PGDATABASE: 'app' });
  });
});

describe("the app's migrator's error lines", () => {
  it('keeps the lines that name the error, first ones first, without stack frames, empty fields or repeats', () => {
    const output = [
      '> Migrating files:',
      '> - 2_embeddings',
      '### MIGRATION 2_embeddings (UP) ###',
      'Error executing:',
      'INSERT INTO docs (embedding) VALUES (\'[1,2,3,4]\');',
      'error: expected 3 dimensions, not 4',
      "  severity: 'ERROR',",
      '  detail: undefined,',
      ...Array.from({ length: 25 }, (_, i) => `    at fn${i} (/app/node_modules/pg/lib/client.js:${i}:1)`),
      'error: expected 3 dimensions, not 4',
    ];
    expect(errorLines(output)).toEqual(['Error executing:', 'error: expected 3 dimensions, not 4']);
    expect(errorLines(['all fine'])).toEqual([]);
  });
});
