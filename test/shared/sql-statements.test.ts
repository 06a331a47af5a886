/** The statement splitter: a semicolon ends a statement only where psql would end it. */
import { describe, expect, it } from 'vitest';
import { scanSql, splitStatements } from '../../scripts/shared/sql-statements.ts';

const texts = (sql: string) => splitStatements(sql).map((s) => s.text);

describe('splitStatements', () => {
  it('splits on semicolons and keeps offsets', () => {
    const sql = 'CREATE TABLE a (x int);\n  INSERT INTO a VALUES (1);';
    const statements = splitStatements(sql);
    expect(statements.map((s) => s.text)).toEqual(['CREATE TABLE a (x int);', 'INSERT INTO a VALUES (1);']);
    expect(statements[1]!.offset).toBe(sql.indexOf('INSERT'));
  });

  it('ignores semicolons in strings, identifiers and comments', () => {
    expect(texts(`SELECT 'a;b', "c;d" -- e;f\n FROM t; /* g; /* nested; */ h; */ SELECT 2;`)).toEqual([
      `SELECT 'a;b', "c;d" -- e;f\n FROM t;`,
      'SELECT 2;',
    ]);
  });

  it('handles doubled quotes and E-strings with backslash escapes', () => {
    expect(texts(`SELECT 'it''s;'; SELECT E'\\';still'; SELECT "a""b;";`)).toEqual([`SELECT 'it''s;';`, `SELECT E'\\';still';`, `SELECT "a""b;";`]);
  });

  it('does not treat a backslash as an escape in a standard string', () => {
    expect(texts(`SELECT 'C:\\'; SELECT 2;`)).toEqual([`SELECT 'C:\\';`, 'SELECT 2;']);
  });

  it('respects dollar quotes, tagged or not, and leaves $1 alone', () => {
    const fn = `CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$ BEGIN RETURN 1; END; $body$;`;
    const dollar = `DO $$ BEGIN PERFORM 1; END $$;`;
    expect(texts(`${fn}\n${dollar}\nPREPARE p AS SELECT $1::int; SELECT a$b FROM t;`)).toEqual([
      fn, dollar, 'PREPARE p AS SELECT $1::int;', 'SELECT a$b FROM t;',
    ]);
    expect(texts(`SELECT $a$ $$ ; $a$; SELECT 1;`)).toEqual([`SELECT $a$ $$ ; $a$;`, 'SELECT 1;']);
  });

  it('keeps a SQL-standard function body (BEGIN ATOMIC ... END) whole, CASE included', () => {
    const fn = `CREATE OR REPLACE FUNCTION g(x int) RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT CASE WHEN x > 0 THEN 1 ELSE 0 END; SELECT x; END;`;
    expect(texts(`${fn} SELECT 3;`)).toEqual([fn, 'SELECT 3;']);
  });

  it('does not count BEGIN as a block outside CREATE FUNCTION', () => {
    expect(texts('BEGIN; SELECT 1; COMMIT;')).toEqual(['BEGIN;', 'SELECT 1;', 'COMMIT;']);
  });

  it('keeps semicolons inside parentheses (rule actions)', () => {
    const rule = 'CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO l VALUES (1); INSERT INTO l VALUES (2));';
    expect(texts(rule)).toEqual([rule]);
  });

  it('drops empty statements and keeps a last statement without a semicolon', () => {
    expect(texts(';; -- only a comment\n;\nSELECT 1')).toEqual(['SELECT 1']);
    expect(texts('-- nothing\n/* at all */\n')).toEqual([]);
  });

  it('reports top-level comments, not those inside statements', () => {
    const { comments } = scanSql('-- head\nSELECT 1 -- inside\n;\n-- pgstrap:down\nSELECT 2;');
    expect(comments.map((c) => c.text)).toEqual(['-- head', '-- pgstrap:down']);
  });

  it('does not mistake a comment marker inside a dollar quote for a comment', () => {
    const { statements, comments } = scanSql('SELECT $$\n-- pgstrap:down\n$$;');
    expect(comments).toEqual([]);
    expect(statements).toHaveLength(1);
  });
});
