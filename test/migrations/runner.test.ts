/** The built-in runner against a real PostgreSQL 17: apply, re-run, failure, no-transaction, drift, lock, down. */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResolvedDatabase } from '../../scripts/config/types.ts';
import { PgstrapError } from '../../scripts/shared/errors.ts';
import { createMigrationFile } from '../../scripts/migrations/files.ts';
import { getMigrationStatus, migrateDatabase, revertLast } from '../../scripts/migrations/runner.ts';
import { migrationsStep } from '../../scripts/migrations/step.ts';
import { REPO_ROOT, query, runStepsQuietly } from '../support/project.ts';
import { startMigrationCluster, type MigrationCluster } from './support.ts';

let cluster: MigrationCluster;

beforeAll(async () => {
  cluster = await startMigrationCluster();
});
afterAll(async () => cluster?.project.remove());

const rows = (db: string, sql: string) => query(cluster.target, db, sql);

/** The error a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<PgstrapError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof PgstrapError) return error;
    throw error;
  }
  throw new Error('expected a PgstrapError');
}

describe('built-in runner', () => {
  it('applies the shipped migrations to a fresh database, then has nothing to do', async () => {
    const files = Object.fromEntries(
      fs.readdirSync(path.join(REPO_ROOT, 'examples', 'migrations')).map((f) => [f, fs.readFileSync(path.join(REPO_ROOT, 'examples', 'migrations', f), 'utf8')]),
    );
    const db = await cluster.database('shipped', files);
    const first = await migrateDatabase(cluster.target, db);
    expect(first.changes).toHaveLength(2);
    expect(first.changes[0]).toMatch(/^applied 20251025000040_create_llm_requests\.sql to shipped \(\d+ ms\)$/);
    await rows('shipped', `INSERT INTO llm_requests (model, request) VALUES ('m', '{}')`);
    await rows('shipped', `INSERT INTO chat_messages (session_id, role, content) VALUES (gen_random_uuid(), 'user', 'hi')`);
    expect(await rows('shipped', `SELECT tableoid::regclass::text AS part FROM chat_messages`)).toEqual([{ part: 'chat_messages_default' }]);
    expect(await rows('shipped', `SELECT indexdef FROM pg_indexes WHERE indexname = 'llm_requests_polling_idx'`)).toEqual([
      { indexdef: 'CREATE INDEX llm_requests_polling_idx ON public.llm_requests USING btree (status, id DESC)' },
    ]);
    const history = await rows('shipped', 'SELECT version, name, state, applied_by, role, duration_ms >= 0 AS timed FROM pgstrap_migrations.history ORDER BY version');
    expect(history).toMatchObject([
      { version: '20251025000040', name: 'create_llm_requests', state: 'applied', role: 'postgres', timed: true },
      { version: '20251026000000', name: 'create_chat_messages', state: 'applied', timed: true },
    ]);
    expect(String(history[0]!.applied_by)).toMatch(/.+@.+/);
    expect((await migrateDatabase(cluster.target, db)).changes).toEqual([]);
    const [status] = await getMigrationStatus(cluster.target, [db]);
    expect(status).toMatchObject({ database: 'shipped', pending: [], drifted: [] });
    expect(status!.applied).toHaveLength(2);
    // Both shipped files can be reverted, newest first.
    expect((await revertLast(cluster.target, db)).changes[0]).toMatch(/^reverted 20251026000000_create_chat_messages\.sql/);
    expect(await rows('shipped', `SELECT to_regclass('chat_messages') AS t`)).toEqual([{ t: null }]);
    expect((await migrateDatabase(cluster.target, db)).changes).toHaveLength(1);
  });

  it('leaves no tracking schema in a database whose folder has no migrations, and tracks once a file appears', async () => {
    const db = await cluster.database('empty', {});
    expect((await migrateDatabase(cluster.target, db)).changes).toEqual([]);
    expect(await rows('empty', "SELECT to_regnamespace('pgstrap_migrations')::text AS s")).toEqual([{ s: null }]);
    cluster.write(db, { '1_first.sql': 'CREATE TABLE first (id int);\n' });
    expect((await migrateDatabase(cluster.target, db)).changes).toEqual([expect.stringMatching(/^applied 1_first\.sql to empty/)]);
    expect(await rows('empty', 'SELECT version FROM pgstrap_migrations.history')).toEqual([{ version: '1' }]);
  });

  it('stops at a failing file: earlier files stay, the failing one leaves nothing, the error points at the line', async () => {
    const db = await cluster.database('failing', {
      '1_first.sql': 'CREATE TABLE first (id int);\n',
      '2_broken.sql': 'CREATE TABLE second (id int);\nINSERT INTO second VALUES (1);\nCREATE TABLE third (\n  id uuid DEFAULT uuidv8()\n);\n',
      '3_after.sql': 'CREATE TABLE after (id int);\n',
    });
    const error = await failure(migrateDatabase(cluster.target, db));
    expect(error.code).toBe('migrate.failed');
    expect(error.message).toMatch(/^failing\/2_broken\.sql:4:19: function uuidv8\(\) does not exist \(42883\)$/);
    expect(error.details).toEqual(expect.arrayContaining(['4 |   id uuid DEFAULT uuidv8()', '  |                   ^', 'statement 3 of 3 in database failing']));
    expect(await rows('failing', `SELECT to_regclass('first')::text AS a, to_regclass('second')::text AS b, to_regclass('after')::text AS c`)).toEqual([{ a: 'first', b: null, c: null }]);
    expect(await rows('failing', 'SELECT version FROM pgstrap_migrations.history')).toEqual([{ version: '1' }]);
    // A runtime error has no position: the statement is still named.
    cluster.write(db, { '2_broken.sql': 'CREATE TABLE second (id int PRIMARY KEY);\nINSERT INTO second VALUES (1);\nINSERT INTO second VALUES (1);\n' });
    const duplicate = await failure(migrateDatabase(cluster.target, db));
    expect(duplicate.message).toMatch(/^failing\/2_broken\.sql:3:1: duplicate key value violates unique constraint "second_pkey" \(23505\)$/);
    expect(duplicate.details).toContain('detail: Key (id)=(1) already exists.');
    cluster.write(db, { '2_broken.sql': 'CREATE TABLE second (id int);\n' });
    expect((await migrateDatabase(cluster.target, db)).changes.map((c) => c.split(' ')[1])).toEqual(['2_broken.sql', '3_after.sql']);
  });

  it('runs a no-transaction file one statement per query (CREATE INDEX CONCURRENTLY, ALTER TYPE ... ADD VALUE)', async () => {
    const db = await cluster.database('notx', {
      '1_table.sql': `CREATE TYPE mood AS ENUM ('ok');\nCREATE TABLE t (id int, m mood);\nINSERT INTO t SELECT g, 'ok' FROM generate_series(1, 1000) g;\n`,
      '2_concurrently.sql': [
        '-- pgstrap:no-transaction',
        'CREATE INDEX CONCURRENTLY t_id_idx ON t (id);',
        "ALTER TYPE mood ADD VALUE 'great';",
        "UPDATE t SET m = 'great' WHERE id = 1;",
        '-- pgstrap:down',
        'DROP INDEX CONCURRENTLY t_id_idx;',
      ].join('\n'),
    });
    expect((await migrateDatabase(cluster.target, db)).changes).toHaveLength(2);
    expect(await rows('notx', `SELECT indisvalid FROM pg_index WHERE indexrelid = 't_id_idx'::regclass`)).toEqual([{ indisvalid: true }]);
    expect(await rows('notx', `SELECT count(*)::int AS n FROM t WHERE m = 'great'`)).toEqual([{ n: 1 }]);
    expect(await rows('notx', `SELECT state, transactional, statements_done FROM pgstrap_migrations.history WHERE version = '2'`)).toEqual([
      { state: 'applied', transactional: false, statements_done: 3 },
    ]);
    await revertLast(cluster.target, db);
    expect(await rows('notx', `SELECT to_regclass('t_id_idx') AS i`)).toEqual([{ i: null }]);
  });

  it('marks a no-transaction file that failed half way, and retries it from the failed statement', async () => {
    const db = await cluster.database('halfway', {
      '1_half.sql': '-- pgstrap:no-transaction\nCREATE TABLE a (id int);\nCREATE TABLE a (id int);\nCREATE TABLE c (id int);\n',
    });
    const error = await failure(migrateDatabase(cluster.target, db));
    expect(error.message).toMatch(/^halfway\/1_half\.sql:3:1: relation "a" already exists \(42P07\)$/);
    expect(error.remedy).toContain('--retry 1');
    const [status] = await getMigrationStatus(cluster.target, [db]);
    expect(status!.drifted).toEqual([{ kind: 'half-applied', version: '1', name: 'half', statementsDone: 1, statementsTotal: 3, inProgress: false }]);
    expect((await failure(migrateDatabase(cluster.target, db))).code).toBe('migrate.drift');
    cluster.write(db, { '1_half.sql': '-- pgstrap:no-transaction\nCREATE TABLE a (id int);\nCREATE TABLE b (id int);\nCREATE TABLE c (id int);\n' });
    expect((await migrateDatabase(cluster.target, db, { retry: ['1'] })).changes).toEqual([expect.stringMatching(/^finished 1_half\.sql on halfway/)]);
    expect(await rows('halfway', `SELECT to_regclass('b')::text AS b, to_regclass('c')::text AS c`)).toEqual([{ b: 'b', c: 'c' }]);
    expect((await getMigrationStatus(cluster.target, [db]))[0]).toMatchObject({ pending: [], drifted: [] });
  });

  it('stops on drift before applying anything, names both checksums, and applies after --accept', async () => {
    const original = 'CREATE TABLE d (id int);\n';
    const db = await cluster.database('drift', { '1_d.sql': original, '2_gone.sql': 'SELECT 1;\n' });
    await migrateDatabase(cluster.target, db);
    // Line endings, a BOM and a re-encoding are no drift.
    cluster.write(db, { '1_d.sql': `\uFEFF${original.replaceAll('\n', '\r\n')}` });
    expect((await getMigrationStatus(cluster.target, [db]))[0]!.drifted).toEqual([]);
    cluster.write(db, { '1_d.sql': 'CREATE TABLE d (id bigint);\n', '2_gone.sql': undefined, '3_new.sql': 'CREATE TABLE n (id int);\n' });
    const error = await failure(migrateDatabase(cluster.target, db));
    expect(error.code).toBe('migrate.drift');
    expect(error.details[0]).toMatch(/^drift\/1_d\.sql was edited after it was applied \(applied [0-9a-f]{64}, file now [0-9a-f]{64}\)$/);
    expect(error.details[1]).toMatch(/^2_gone was applied but its file is gone/);
    expect(error.remedy).toContain('npm run migrate -- --accept 1 --accept 2');
    expect(await rows('drift', `SELECT to_regclass('n') AS n`)).toEqual([{ n: null }]);
    const [status] = await getMigrationStatus(cluster.target, [db]);
    expect(status!.drifted.map((d) => d.kind)).toEqual(['edited', 'missing']);
    expect(status!.pending.map((p) => p.version)).toEqual(['3']);
    const accepted = await migrateDatabase(cluster.target, db, { accept: ['1', '2'] });
    expect(accepted.changes).toEqual([
      expect.stringMatching(/^accepted the edit of 1_d\.sql/),
      'forgot 2_gone: its file is gone',
      expect.stringMatching(/^applied 3_new\.sql/),
    ]);
    expect((await getMigrationStatus(cluster.target, [db]))[0]).toMatchObject({ pending: [], drifted: [] });
  });

  it('lets two runners at once apply each file once; both finish cleanly', async () => {
    const files: Record<string, string> = {};
    for (let i = 1; i <= 20; i++) files[`${i}_m.sql`] = `CREATE TABLE t${i} (id int);\nINSERT INTO log VALUES (${i});\n`;
    files['0_log.sql'] = 'CREATE TABLE log (n int);\n';
    files['21_slow.sql'] = '-- pgstrap:no-transaction\nSELECT pg_sleep(0.5);\nCREATE INDEX CONCURRENTLY log_n_idx ON log (n);\n';
    const db = await cluster.database('concurrent', files);
    const waits: string[] = [];
    const [a, b] = await Promise.all([
      migrateDatabase(cluster.target, db, { log: (l) => waits.push(l) }),
      migrateDatabase(cluster.target, db, { log: (l) => waits.push(l) }),
    ]);
    expect(a.changes.length + b.changes.length).toBe(22);
    expect(Math.min(a.changes.length, b.changes.length)).toBe(0);
    expect(waits.some((l) => l.includes('waiting for another migration runner'))).toBe(true);
    expect(await rows('concurrent', 'SELECT count(*)::int AS n, count(DISTINCT n)::int AS d FROM log')).toEqual([{ n: 20, d: 20 }]);
    expect(await rows('concurrent', `SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory'`)).toEqual([{ n: 0 }]);
  });

  it('gives up waiting for the lock after --lock-timeout, naming the holder', async () => {
    const db = await cluster.database('locked', { '1_slow.sql': 'SELECT pg_sleep(3);\n' });
    const slow = migrateDatabase(cluster.target, db);
    await new Promise((r) => setTimeout(r, 500));
    const error = await failure(migrateDatabase(cluster.target, db, { lockTimeoutSeconds: 0.5 }));
    expect(error.code).toBe('migrate.lock-timeout');
    expect(error.message).toMatch(/another migration runner \(server pid \d+, role postgres/);
    expect((await slow).changes).toHaveLength(1);
  });

  it('shows a no-transaction file another runner is running as in progress, not dead', async () => {
    const db = await cluster.database('inprogress', { '1_slow.sql': '-- pgstrap:no-transaction\nCREATE TABLE a (id int);\nSELECT pg_sleep(2);\n' });
    const slow = migrateDatabase(cluster.target, db);
    let drifted: unknown[] = [];
    for (let i = 0; i < 40 && drifted.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 50));
      drifted = (await getMigrationStatus(cluster.target, [db]))[0]!.drifted;
    }
    // statementsDone is 0 or 1, depending on when status looked.
    expect(drifted).toMatchObject([{ kind: 'half-applied', version: '1', name: 'slow', statementsTotal: 2, inProgress: true }]);
    await slow;
    expect((await getMigrationStatus(cluster.target, [db]))[0]).toMatchObject({ pending: [], drifted: [] });
  });

  it('refuses migrate:down where the last file has no down section', async () => {
    const db = await cluster.database('nodown', { '1_a.sql': 'CREATE TABLE a (id int);\n-- pgstrap:down\nDROP TABLE a;\n', '2_b.sql': 'CREATE TABLE b (id int);\n' });
    await migrateDatabase(cluster.target, db);
    const error = await failure(revertLast(cluster.target, db));
    expect(error.code).toBe('migrate.no-down');
    expect(error.message).toBe('database nodown: nodown/2_b.sql has no down section');
    expect(await rows('nodown', `SELECT to_regclass('b')::text AS b`)).toEqual([{ b: 'b' }]);
  });

  it('creates the next file with migrate:new, after any existing version', async () => {
    const db = await cluster.database('newfile', { '99999999999999_future.sql': 'SELECT 1;\n' });
    const file = createMigrationFile(db.migrations.directory, 'Add users');
    expect(path.basename(file)).toBe('100000000000000_add_users.sql');
    const text = fs.readFileSync(file, 'utf8');
    expect(text).toContain('-- pgstrap:down');
    // The template is a valid, empty migration.
    expect((await migrateDatabase(cluster.target, db)).changes).toHaveLength(2);
  });
});

describe("the app's own migrator", () => {
  const narrowed = (db: ResolvedDatabase) => ({ ...cluster.target, databases: [db] });

  it('runs migrations.command per database after the built-in runner, with DATABASE_URL and PG* set to it, streaming its output', async () => {
    // A stand-in for `npx prisma migrate deploy`: it connects with DATABASE_URL over TCP and reports PG*.
    const script = [
      "const pg = require('pg');",
      'const c = new pg.Client({ connectionString: process.env.DATABASE_URL });',
      "c.connect().then(() => c.query('CREATE TABLE by_app (id int)')).then(() => c.end())",
      '.then(() => console.log(`connected to ${process.env.PGDATABASE} at ${process.env.PGHOST}:${process.env.PGPORT} as ${process.env.PGUSER}`));',
    ].join(' ');
    const db = await cluster.database('appcmd', { '1_first.sql': 'CREATE TABLE builtin (id int);\n' }, [process.execPath, '-e', script]);
    const lines: string[] = [];
    const [report] = await runStepsQuietly([migrationsStep], cluster.project.config, narrowed(db), lines);
    expect(report).toMatchObject({
      status: 'changed',
      changes: [expect.stringMatching(/^applied 1_first\.sql/)],
      handedOff: [expect.stringMatching(/^ran `.+` on database appcmd: it succeeded \(exit 0\) in \d+\.\d\d s$/)],
    });
    expect(lines).toContain(`appcmd: connected to appcmd at 127.0.0.1:${cluster.project.config.port} as postgres`);
    expect(await rows('appcmd', `SELECT to_regclass('builtin')::text AS a, to_regclass('by_app')::text AS b`)).toEqual([{ a: 'builtin', b: 'by_app' }]);
  });

  it('fails with the exit code and the last lines of a failing command; builtIn: false skips the SQL files', async () => {
    const db = await cluster.database('badcmd', { '1_first.sql': 'CREATE TABLE builtin (id int);\n' }, ['sh', '-c', 'echo migrating; echo "relation users does not exist" >&2; exit 3']);
    db.migrations.builtIn = false;
    const error = await failure(runStepsQuietly([migrationsStep], cluster.project.config, narrowed(db)));
    expect(error.code).toBe('migrate.command-failed');
    expect(error.message).toBe('`echo migrating; echo "relation users does not exist" >&2; exit 3` failed on database badcmd: exit code 3');
    expect(error.details).toEqual(['its last lines:', '  migrating', '  relation users does not exist']);
    expect(await rows('badcmd', `SELECT to_regclass('builtin') AS a, to_regclass('pgstrap_migrations.history') AS h`)).toEqual([{ a: null, h: null }]);
    const missing = await cluster.database('nocmd', {}, ['pgstrap-no-such-program']);
    expect((await failure(runStepsQuietly([migrationsStep], cluster.project.config, narrowed(missing)))).message).toMatch(/failed on database nocmd: .*ENOENT/);
  });
});
