import { describe, expect, it } from 'vitest';
import {
  parseDescribeConfig,
  parseManagedConf,
  planSettings,
  renderManagedConf,
  unknownSettings,
} from '../../scripts/core/server-settings.ts';

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

  it('knows unknown settings, but lets extension settings (with a dot) through', () => {
    expect(unknownSettings(['work_mem', 'wrok_mem', 'cron.database_name'], known)).toEqual(['wrok_mem']);
  });
});
