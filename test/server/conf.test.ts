import { describe, expect, it } from 'vitest';
import {
  acceptedValues,
  directiveNames,
  parseConfigCheck,
  parseDescribeConfig,
  parseManagedConf,
  planSettings,
  preloadLibraryNames,
  quoteConfValue,
  renderManagedConf,
} from '../../scripts/server/conf.ts';

const known = parseDescribeConfig(
  [
    'port\tpostmaster\tConnections\tINTEGER\t5432\t1\t65535\tSets the TCP port.\t',
    'shared_preload_libraries\tpostmaster\tPreload\tSTRING\t\t\t\tLists libraries.\t',
    'work_mem\tuser\tResource Usage\tINTEGER\t4096\t64\t2147483647\tSets memory.\t',
  ].join('\n'),
);

describe('managed settings', () => {
  it('round-trips values with quotes through the managed file', () => {
    const settings = { search_path: `"$user", public`, application_name: "it's" };
    expect(parseManagedConf(renderManagedConf(settings))).toEqual(settings);
  });

  it('plans a restart only for settings that need one', () => {
    expect(planSettings({ port: '5417', work_mem: '4MB' }, { port: '5417', work_mem: '8MB' }, known)).toEqual({
      changes: [{ name: 'work_mem', from: '4MB', to: '8MB', restart: false }],
      restart: false,
    });
    const plan = planSettings({}, { shared_preload_libraries: 'pg_cron', 'cron.database_name': 'app' }, known);
    expect(plan.restart).toBe(true);
    expect(plan.changes.every((c) => c.restart)).toBe(true);
  });

  it('plans nothing when the file already says it', () => {
    expect(planSettings({ port: '1' }, { port: '1' }, known)).toEqual({ changes: [], restart: false });
  });

  it('escapes what postgresql.conf reads as escapes: a trailing backslash, quotes, newlines', () => {
    expect(quoteConfValue('C:\\dir\\')).toBe("'C:\\\\dir\\\\'");
    const settings = { a: 'ends in \\', b: "it's \\'x\\' \"q\"", c: 'two\nlines\r\ttab', d: '\\n is not a newline', e: '' };
    expect(parseManagedConf(renderManagedConf(settings))).toEqual(settings);
    // Octal escapes and a doubled quote, as a hand edit could write them.
    expect(parseManagedConf("x = 'a\\101''b\\q'\n")).toEqual({ x: "aA'bq" });
  });

  it('reads the server\'s refusal of a file: the setting, its message and hint, without the temporary path', () => {
    const stderr = [
      '2026-12-01 20:11:57.587 GMT [10767] LOG:  skipping missing configuration file "/tmp/x/postgresql.auto.conf"',
      '2026-12-01 20:11:57.587 GMT [10767] LOG:  invalid value for parameter "Work_Mem": "lots"',
      '2026-12-01 20:11:57.587 GMT [10767] LOG:  invalid value for parameter "wal_level": "foo"',
      '2026-12-01 20:11:57.587 GMT [10767] HINT:  Available values: minimal, replica, logical.',
      '2026-12-01 20:11:54.122 GMT [10730] LOG:  unrecognized configuration parameter "foo_bar" in file "/tmp/x/postgresql.conf" line 3',
      '2026-12-01 20:11:57.587 GMT [10767] FATAL:  configuration file "/tmp/x/postgresql.conf" contains errors',
    ].join('\n');
    expect(parseConfigCheck(stderr, ['work_mem', 'wal_level', 'foo_bar'])).toEqual([
      { name: 'work_mem', message: 'invalid value for parameter "Work_Mem": "lots"' },
      { name: 'wal_level', message: 'invalid value for parameter "wal_level": "foo" (Available values: minimal, replica, logical)' },
      { name: 'foo_bar', message: 'unrecognized configuration parameter "foo_bar"' },
    ]);
  });

  it('reads the library names of a preload list', () => {
    expect(preloadLibraryNames(' pg_cron, "$libdir/pg_stat_statements",auto_explain.so, /opt/x/lib.so,')).toEqual(['pg_cron', 'pg_stat_statements', 'auto_explain', '/opt/x/lib.so']);
  });

  it('says what a setting takes from its --describe-config line, and knows include directives', () => {
    expect(acceptedValues(known.get('work_mem'))).toMatch(/^an integer from 64 to 2147483647/);
    expect(acceptedValues(undefined)).toBeUndefined();
    expect(directiveNames(['work_mem', 'Include_Dir'])).toEqual(['Include_Dir']);
  });
});
