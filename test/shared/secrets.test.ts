import { describe, expect, it } from 'vitest';
import { redactSecrets, redactUrl, rememberSecret, rememberUrlSecrets } from '../../scripts/shared/secrets.ts';

describe('secrets', () => {
  it('masks a URL password in the user part and in password/sslpassword parameters', () => {
    expect(redactUrl('postgresql://u:pw@h:5432/db')).toBe('postgresql://u:***@h:5432/db');
    expect(redactUrl('postgresql://u@h/db?sslmode=require&password=pw&sslpassword=k')).toBe('postgresql://u@h/db?sslmode=require&password=***&sslpassword=***');
    expect(redactUrl('postgresql://u@h/db')).toBe('postgresql://u@h/db');
    // Not a URL the parser takes: the same masks by pattern.
    expect(redactUrl('postgres://u:p w@h/db?password=x')).toBe('postgres://u:***@h/db?password=***');
  });

  it('masks URL passwords anywhere in a text, and every remembered secret', () => {
    expect(redactSecrets('psql "host=h password=hunter2 dbname=x" failed; see postgres://a:b@h/x')).toBe('psql "host=h password=*** dbname=x" failed; see postgres://a:***@h/x');
    rememberSecret('Zk3-secret_from_file');
    rememberUrlSecrets('postgresql://u:p%40ss%2Fword@h/db?password=q-param-secret');
    expect(redactSecrets('echo Zk3-secret_from_file and p@ss/word, p%40ss%2Fword, q-param-secret')).toBe('echo *** and ***, ***, ***');
    // Too short to mask wherever its letters occur.
    rememberSecret('ab');
    expect(redactSecrets('abc')).toBe('abc');
  });
});
